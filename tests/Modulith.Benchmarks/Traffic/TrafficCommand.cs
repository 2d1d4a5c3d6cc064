using System.Net.Http.Headers;
using System.Text;
using Modulith.Benchmarks.Traffic;

namespace Modulith.Benchmarks;

/// <summary><c>traffic --url http://localhost:5000 --write-key KEY [--sessions 200] [--seed 1]</c>: sends realistic shop sessions for a demo.</summary>
public static class TrafficCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        string? Value(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        var url = Value("--url") ?? "http://localhost:5000";
        var writeKey = Value("--write-key") ?? Environment.GetEnvironmentVariable("MODULITH_WRITE_KEY");
        if (writeKey is null)
        {
            Console.Error.WriteLine("usage: traffic --url URL --write-key KEY [--sessions N] [--seed S]");
            return 2;
        }

        var sessions = int.Parse(Value("--sessions") ?? "200", System.Globalization.CultureInfo.InvariantCulture);
        var seed = int.Parse(Value("--seed") ?? "1", System.Globalization.CultureInfo.InvariantCulture);
        var traffic = new ShopTraffic(seed, DateTimeOffset.UtcNow.AddDays(-7));
        using var client = new HttpClient { BaseAddress = new Uri(url) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(writeKey + ":")));
        var sent = 0;
        for (var s = 0; s < sessions; s++)
        {
            var messages = traffic.Session().ToList();
            using var response = await client.PostAsync("/v1/batch", new StringContent("{\"batch\":[" + string.Join(',', messages) + "]}", Encoding.UTF8, "application/json"));
            if (!response.IsSuccessStatusCode)
            {
                Console.Error.WriteLine($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                return 1;
            }

            sent += messages.Count;
        }

        Console.WriteLine($"Sent {sessions} sessions, {sent} events to {url}.");
        return 0;
    }
}
