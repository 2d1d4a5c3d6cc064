using Modulith.Leads.Contracts;

namespace Modulith.Leads.Pipeline;

internal sealed class LeadDirectory(IGrainFactory grains) : ILeadDirectory
{
    public Task<LeadStatus> GetStatusAsync(string workspaceId, string leadId) =>
        grains.GetGrain<ILeadGrain>($"{workspaceId}/{leadId}").GetStatusAsync();
}
