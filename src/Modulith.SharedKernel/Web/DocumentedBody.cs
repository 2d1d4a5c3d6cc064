namespace Modulith.SharedKernel.Web;

/// <summary>
/// Documents a request body that the endpoint reads itself (any content type, e.g. Segment's text/plain bodies),
/// without the content-type matching that <c>Accepts</c> adds to routing.
/// </summary>
/// <param name="BodyType">The documented body type.</param>
public sealed record DocumentedBody(Type BodyType);
