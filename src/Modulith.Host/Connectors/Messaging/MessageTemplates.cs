using System.Collections.Concurrent;
using HandlebarsDotNet;

namespace Modulith.Host.Connectors.Messaging;

/// <summary>
/// Renders message templates with Handlebars: HTML bodies escape values (<c>{{{raw}}}</c> opts out), subjects and text
/// bodies do not. Compiled templates are cached, since journeys send one template to many customers.
/// </summary>
internal sealed class MessageTemplates
{
    private const int MaxCachedTemplates = 2_000;

    private readonly IHandlebars _html = Handlebars.Create(new HandlebarsConfiguration { ThrowOnUnresolvedBindingExpression = false });
    private readonly IHandlebars _plain = Handlebars.Create(new HandlebarsConfiguration { ThrowOnUnresolvedBindingExpression = false, NoEscape = true });
    private readonly ConcurrentDictionary<(bool Html, string Source), HandlebarsTemplate<object, object>> _compiled = new();

    /// <summary>Renders <paramref name="template"/>; throws <see cref="TemplateException"/> with the reason when it is not valid Handlebars.</summary>
    public string? Render(string? template, bool html, IReadOnlyDictionary<string, object?> context)
    {
        if (string.IsNullOrEmpty(template))
        {
            return template;
        }

        if (!template.Contains("{{", StringComparison.Ordinal))
        {
            return template;
        }

        return Compile(template, html)(context);
    }

    private HandlebarsTemplate<object, object> Compile(string template, bool html)
    {
        if (_compiled.TryGetValue((html, template), out var compiled))
        {
            return compiled;
        }

        try
        {
            compiled = (html ? _html : _plain).Compile(template);
        }
        catch (HandlebarsException exception)
        {
            throw new TemplateException(exception.Message);
        }

        if (_compiled.Count >= MaxCachedTemplates)
        {
            _compiled.Clear();
        }

        _compiled[(html, template)] = compiled;
        return compiled;
    }
}

/// <summary>A template that does not parse.</summary>
internal sealed class TemplateException(string message) : Exception(message);
