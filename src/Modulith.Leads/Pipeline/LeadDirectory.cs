using Modulith.Leads.Contracts;
using Modulith.SharedKernel.Grains;

namespace Modulith.Leads.Pipeline;

internal sealed class LeadDirectory(IGrainFactory grains) : ILeadDirectory
{
    public Task<LeadStatus> GetStatusAsync(string workspaceId, string leadId) =>
        grains.GetGrainByKey<ILeadGrain>($"{workspaceId}/{leadId}").GetStatusAsync();
}
