using Modulith.Leads.Contracts;
using Modulith.SharedKernel.Grains;

namespace Modulith.Leads.Pipeline;

internal sealed class LeadDirectory(IGrainFactory grains) : ILeadDirectory
{
    private static readonly Task<LeadStatus> Visitor = Task.FromResult(new LeadStatus(LeadStages.Visitor, null));

    public Task<LeadStatus> GetStatusAsync(string workspaceId, string leadId, bool isKnownContact) => isKnownContact
        ? grains.GetGrainByKey<ILeadGrain>($"{workspaceId}/{leadId}").GetStatusAsync()
        : Visitor;
}
