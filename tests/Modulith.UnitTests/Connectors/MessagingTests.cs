using System.Text.Json;
using Modulith.Host.Connectors.Messaging;

namespace Modulith.UnitTests.Connectors;

public sealed class RetryScheduleTests
{
    private static readonly MessagingOptions Options = new() { RetryBaseDelay = TimeSpan.FromSeconds(10), RetryMaxDelay = TimeSpan.FromMinutes(5) };

    [Theory]
    [InlineData(1, 10)]
    [InlineData(2, 20)]
    [InlineData(3, 40)]
    [InlineData(5, 160)]
    [InlineData(6, 300)]
    [InlineData(60, 300)]
    public void Each_retry_waits_twice_as_long_up_to_the_cap(int attempt, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), RetrySchedule.DelayAfter(attempt, Options, jitter: 0));

    [Fact]
    public void Jitter_moves_a_wait_by_at_most_a_fifth()
    {
        Assert.Equal(TimeSpan.FromSeconds(12), RetrySchedule.DelayAfter(1, Options, jitter: 1));
        Assert.Equal(TimeSpan.FromSeconds(8), RetrySchedule.DelayAfter(1, Options, jitter: -1));
        Assert.Equal(TimeSpan.FromSeconds(12), RetrySchedule.DelayAfter(1, Options, jitter: 7));
    }
}

public sealed class MessageTemplateTests
{
    private readonly MessageTemplates _templates = new();

    private static Dictionary<string, object?> Context(string json) =>
        JsonDocument.Parse(json).RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value);

    [Fact]
    public void Html_bodies_escape_values_and_text_bodies_do_not()
    {
        var context = Context("""{"name":"Tom & <Jerry>"}""");
        Assert.Equal("<p>Tom &amp; &lt;Jerry&gt;</p>", _templates.Render("<p>{{name}}</p>", html: true, context));
        Assert.Equal("Tom & <Jerry>", _templates.Render("{{name}}", html: false, context));
        Assert.Equal("<p>Tom & <Jerry></p>", _templates.Render("<p>{{{name}}}</p>", html: true, context));
    }

    [Fact]
    public void Nested_values_loops_and_conditions_come_from_json_data()
    {
        var context = Context("""{"customer":{"traits":{"firstName":"Ann"}},"items":["a","b"],"vip":false}""");
        Assert.Equal("Ann: a,b,", _templates.Render("{{customer.traits.firstName}}: {{#each items}}{{this}},{{/each}}{{#if vip}}VIP{{/if}}", html: false, context));
    }

    [Fact]
    public void Missing_values_render_empty_and_plain_text_passes_through()
    {
        Assert.Equal("Hi !", _templates.Render("Hi {{nobody}}!", html: false, Context("{}")));
        Assert.Equal("no placeholders", _templates.Render("no placeholders", html: false, Context("{}")));
        Assert.Null(_templates.Render(null, html: true, Context("{}")));
    }

    [Fact]
    public void A_template_that_does_not_parse_is_refused_with_the_reason() =>
        Assert.Throws<TemplateException>(() => _templates.Render("{{#if x}}open", html: false, Context("{}")));
}
