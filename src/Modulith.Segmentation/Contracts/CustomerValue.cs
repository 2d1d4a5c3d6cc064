namespace Modulith.Segmentation.Contracts;

/// <summary>BG/NBD parameters (time in weeks): purchase rate heterogeneity <c>r</c>, <c>alpha</c>; dropout heterogeneity <c>a</c>, <c>b</c>.</summary>
/// <param name="R">Shape of the gamma distribution of purchase rates.</param>
/// <param name="Alpha">Scale of the gamma distribution of purchase rates (weeks).</param>
/// <param name="A">First shape of the beta distribution of dropout probabilities.</param>
/// <param name="B">Second shape of the beta distribution of dropout probabilities.</param>
public sealed record BgNbdParameters(double R, double Alpha, double A, double B);

/// <summary>Gamma-Gamma spend parameters: <c>p</c> (shape of spend around a customer's mean), <c>q</c> and <c>v</c> (distribution of the means).</summary>
/// <param name="P">Shape of a customer's transaction values.</param>
/// <param name="Q">Shape of the distribution of customers' scale.</param>
/// <param name="V">Scale of the distribution of customers' scale.</param>
public sealed record GammaGammaParameters(double P, double Q, double V);

/// <summary>The BG/NBD fit: its parameters, log-likelihood and the customers it saw.</summary>
/// <param name="R">See <see cref="BgNbdParameters"/>.</param>
/// <param name="Alpha">See <see cref="BgNbdParameters"/>.</param>
/// <param name="A">See <see cref="BgNbdParameters"/>.</param>
/// <param name="B">See <see cref="BgNbdParameters"/>.</param>
/// <param name="LogLikelihood">The maximised log-likelihood.</param>
/// <param name="Customers">Customers with a purchase on or before <c>asOf</c>.</param>
public sealed record BgNbdFit(double R, double Alpha, double A, double B, double LogLikelihood, int Customers);

/// <summary>The Gamma-Gamma fit over customers with at least one repeat purchase.</summary>
/// <param name="P">See <see cref="GammaGammaParameters"/>.</param>
/// <param name="Q">See <see cref="GammaGammaParameters"/>.</param>
/// <param name="V">See <see cref="GammaGammaParameters"/>.</param>
/// <param name="LogLikelihood">The maximised log-likelihood.</param>
/// <param name="Customers">Customers with a repeat purchase and a positive average spend.</param>
public sealed record GammaGammaFit(double P, double Q, double V, double LogLikelihood, int Customers);

/// <summary>The fitted CLV models of a workspace as of a day (answer of <c>GET /api/clv/model</c>).</summary>
/// <param name="AsOf">The last day of history the fit used (inclusive).</param>
/// <param name="TimeUnit">Always <c>weeks</c>.</param>
/// <param name="Orders">Orders on or before <c>asOf</c>.</param>
/// <param name="PurchaseOccasions">Purchase occasions (orders of one customer on one day count once).</param>
/// <param name="BgNbd">The purchase and dropout model.</param>
/// <param name="GammaGamma">The spend model, or null with fewer than two repeat customers.</param>
/// <param name="FittedAt">When the fit was computed.</param>
public sealed record ClvModel(DateOnly AsOf, string TimeUnit, long Orders, long PurchaseOccasions, BgNbdFit BgNbd, GammaGammaFit? GammaGamma, DateTimeOffset FittedAt);

/// <summary>A customer's value: historical and predicted over a horizon.</summary>
/// <param name="CustomerId">The customer.</param>
/// <param name="AsOf">The day the prediction is made from.</param>
/// <param name="Orders">Orders so far.</param>
/// <param name="Revenue">Historical revenue.</param>
/// <param name="Margin">Historical margin, where the orders carried one.</param>
/// <param name="RepeatPurchases">Repeat purchase occasions (x).</param>
/// <param name="RecencyWeeks">Weeks from the first to the last purchase occasion (t_x).</param>
/// <param name="AgeWeeks">Weeks from the first purchase to <c>asOf</c> (T).</param>
/// <param name="ProbabilityAlive">BG/NBD probability that the customer still buys (predictions are null until the workspace has enough history to fit).</param>
/// <param name="ChurnProbability">1 - probability alive.</param>
/// <param name="HorizonWeeks">The prediction horizon.</param>
/// <param name="ExpectedPurchases">Expected purchase occasions within the horizon.</param>
/// <param name="ExpectedAverageSpend">Gamma-Gamma expected spend per purchase.</param>
/// <param name="PredictedValue">Expected purchases times expected spend (undiscounted).</param>
/// <param name="ExpectedNextPurchaseWeeks">Weeks until the expected next purchase (null when under one purchase is expected in a long horizon).</param>
public sealed record CustomerValue(
    string CustomerId,
    DateOnly AsOf,
    int Orders,
    double Revenue,
    double? Margin,
    int RepeatPurchases,
    double RecencyWeeks,
    double AgeWeeks,
    double? ProbabilityAlive,
    double? ChurnProbability,
    double HorizonWeeks,
    double? ExpectedPurchases,
    double? ExpectedAverageSpend,
    double? PredictedValue,
    double? ExpectedNextPurchaseWeeks);

/// <summary>Customer value for other modules (KPIs, journeys).</summary>
public interface ICustomerValueService
{
    /// <summary>The workspace's fitted models as of a day (today when null), or null without enough order history.</summary>
    Task<ClvModel?> ModelAsync(string workspaceId, DateOnly? asOf, CancellationToken cancellationToken = default);

    /// <summary>A customer's historical and predicted value, or null when the customer has no order.</summary>
    Task<CustomerValue?> CustomerAsync(string workspaceId, string customerId, double horizonWeeks, DateOnly? asOf = null, CancellationToken cancellationToken = default);
}

/// <summary>Progress of an order import.</summary>
/// <param name="Id">The import.</param>
/// <param name="Status"><c>ingesting</c> (orders being stored as events), <c>applying</c> (events being applied to profiles), <c>completed</c> or <c>failed</c>.</param>
/// <param name="Format">csv or jsonl.</param>
/// <param name="Total">Orders in the file.</param>
/// <param name="Ingested">Orders stored durably as <c>Order Completed</c> events.</param>
/// <param name="Applied">Orders applied to customer profiles and the order history.</param>
/// <param name="Error">Why the import failed.</param>
/// <param name="CreatedAt">When it was received.</param>
/// <param name="UpdatedAt">The latest progress.</param>
public sealed record OrderImportStatus(string Id, string Status, string Format, int Total, int Ingested, long Applied, string? Error, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);
