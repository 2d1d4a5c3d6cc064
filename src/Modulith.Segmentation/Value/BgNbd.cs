using MathNet.Numerics;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Optimization;
using Modulith.Segmentation.Contracts;

namespace Modulith.Segmentation.Value;

/// <summary>
/// The BG/NBD model of Fader, Hardie and Lee (2005): while alive a customer buys at a Poisson rate (gamma-distributed
/// across customers: r, alpha) and after each purchase drops out with a probability p (beta-distributed: a, b).
/// Fitted by maximum likelihood; time in weeks.
/// </summary>
internal static class BgNbd
{
    /// <summary>The log-likelihood of the data (customers with identical (x, t_x, T) are weighted, not repeated).</summary>
    public static double LogLikelihood(BgNbdParameters p, IReadOnlyList<(int X, double Recency, double Age, int Count)> data)
    {
        var (r, alpha, a, b) = (p.R, p.Alpha, p.A, p.B);
        var lnGammaR = SpecialFunctions.GammaLn(r);
        var lnBetaAB = SpecialFunctions.BetaLn(a, b);
        var total = 0.0;
        foreach (var (x, tx, t, count) in data)
        {
            var a1 = SpecialFunctions.GammaLn(r + x) - lnGammaR + r * Math.Log(alpha);
            var a2 = SpecialFunctions.BetaLn(a, b + x) - lnBetaAB;
            var a3 = -(r + x) * Math.Log(alpha + t);
            var ll = a1 + a2 + a3;
            if (x > 0)
            {
                var a4 = Math.Log(a) - Math.Log(b + x - 1) - (r + x) * Math.Log(alpha + tx);
                ll = a1 + a2 + LogSumExp(a3, a4);
            }

            total += count * ll;
        }

        return total;
    }

    /// <summary>Maximum-likelihood parameters for the summaries.</summary>
    public static (BgNbdParameters Parameters, double LogLikelihood) Fit(IEnumerable<PurchaseSummary> customers)
    {
        var data = customers.GroupBy(c => (c.X, c.Recency, c.Age)).Select(g => (g.Key.X, g.Key.Recency, g.Key.Age, g.Count())).ToList();
        double Objective(Vector<double> v)
        {
            var ll = LogLikelihood(new BgNbdParameters(Math.Exp(v[0]), Math.Exp(v[1]), Math.Exp(v[2]), Math.Exp(v[3])), data);
            return double.IsFinite(ll) ? -ll : double.MaxValue;
        }

        var point = Optimizer.Minimize(Objective, [0, 0, 0, 0]);
        var fitted = new BgNbdParameters(Math.Exp(point[0]), Math.Exp(point[1]), Math.Exp(point[2]), Math.Exp(point[3]));
        return (fitted, LogLikelihood(fitted, data));
    }

    /// <summary>The probability that the customer is still alive at the end of the observation.</summary>
    public static double ProbabilityAlive(BgNbdParameters p, PurchaseSummary s) =>
        s.X == 0 ? 1.0 : 1.0 / (1.0 + p.A / (p.B + s.X - 1) * Math.Exp((p.R + s.X) * (Math.Log(p.Alpha + s.Age) - Math.Log(p.Alpha + s.Recency))));

    /// <summary>Expected purchase occasions in the next <paramref name="weeks"/>, given the customer's history (Fader et al. 2005, eq. 10).</summary>
    public static double ExpectedPurchases(BgNbdParameters p, PurchaseSummary s, double weeks)
    {
        var (r, alpha, a, b) = (p.R, p.Alpha, p.A, p.B);
        var x = s.X;
        var hyper = Hypergeometric.F21(r + x, b + x, a + b + x - 1, weeks / (alpha + s.Age + weeks));
        var numerator = (a + b + x - 1) / (a - 1) * (1 - Math.Pow((alpha + s.Age) / (alpha + s.Age + weeks), r + x) * hyper);
        var denominator = x > 0 ? 1 + a / (b + x - 1) * Math.Pow((alpha + s.Age) / (alpha + s.Recency), r + x) : 1;
        return numerator / denominator;
    }

    private static double LogSumExp(double u, double v)
    {
        var max = Math.Max(u, v);
        return max + Math.Log(Math.Exp(u - max) + Math.Exp(v - max));
    }
}

/// <summary>
/// The Gamma-Gamma model of monetary value (Fader and Hardie 2013): a customer's spend per transaction varies around
/// their mean (shape p), and the means vary across customers (q, v). Fitted on customers with repeat purchases.
/// </summary>
internal static class GammaGamma
{
    public static double LogLikelihood(GammaGammaParameters p, IReadOnlyList<(int X, double Average)> data)
    {
        var (pp, q, v) = (p.P, p.Q, p.V);
        var lnGammaQ = SpecialFunctions.GammaLn(q);
        var total = 0.0;
        foreach (var (x, m) in data)
        {
            var px = pp * x;
            total += SpecialFunctions.GammaLn(px + q) - SpecialFunctions.GammaLn(px) - lnGammaQ + q * Math.Log(v)
                + (px - 1) * Math.Log(m) + px * Math.Log(x) - (px + q) * Math.Log(x * m + v);
        }

        return total;
    }

    /// <summary>Fits on the customers with at least one repeat occasion and a positive average.</summary>
    public static (GammaGammaParameters Parameters, double LogLikelihood, int Customers)? Fit(IEnumerable<PurchaseSummary> customers)
    {
        var data = customers.Where(c => c.X > 0 && c.RepeatAverage > 0).Select(c => (c.X, c.RepeatAverage)).ToList();
        if (data.Count < 2)
        {
            return null;
        }

        double Objective(Vector<double> w)
        {
            var ll = LogLikelihood(new GammaGammaParameters(Math.Exp(w[0]), Math.Exp(w[1]), Math.Exp(w[2])), data);
            return double.IsFinite(ll) ? -ll : double.MaxValue;
        }

        var point = Optimizer.Minimize(Objective, [0, 0, 0]);
        var fitted = new GammaGammaParameters(Math.Exp(point[0]), Math.Exp(point[1]), Math.Exp(point[2]));
        return (fitted, LogLikelihood(fitted, data), data.Count);
    }

    /// <summary>The expected average spend per transaction of a customer, given their history (the population mean without repeats).</summary>
    public static double ExpectedAverageSpend(GammaGammaParameters p, PurchaseSummary s)
    {
        var populationMean = p.P * p.V / (p.Q - 1);
        if (s.X == 0 || s.RepeatAverage <= 0)
        {
            return populationMean;
        }

        var px = p.P * s.X;
        var weight = (p.Q - 1) / (px + p.Q - 1);
        return weight * populationMean + (1 - weight) * s.RepeatAverage;
    }
}

/// <summary>Nelder-Mead over log-parameters, restarted from its own answer until it stops improving.</summary>
internal static class Optimizer
{
    public static Vector<double> Minimize(Func<Vector<double>, double> objective, double[] start)
    {
        var function = ObjectiveFunction.Value(objective);
        var point = Vector<double>.Build.DenseOfArray(start);
        var best = objective(point);
        for (var round = 0; round < 6; round++)
        {
            var result = NelderMeadSimplex.Minimum(function, point, 1e-12, 20_000);
            var value = result.FunctionInfoAtMinimum.Value;
            point = result.MinimizingPoint;
            if (Math.Abs(best - value) < 1e-9 * Math.Max(1, Math.Abs(value)))
            {
                break;
            }

            best = value;
        }

        return point;
    }
}

/// <summary>The Gaussian hypergeometric function 2F1(a, b; c; z) for 0 &lt;= z &lt; 1, by its power series.</summary>
internal static class Hypergeometric
{
    public static double F21(double a, double b, double c, double z)
    {
        var term = 1.0;
        var sum = 1.0;
        for (var n = 0; n < 100_000; n++)
        {
            term *= (a + n) * (b + n) / ((c + n) * (n + 1)) * z;
            sum += term;
            if (Math.Abs(term) < 1e-15 * Math.Abs(sum))
            {
                break;
            }
        }

        return sum;
    }
}
