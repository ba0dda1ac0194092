using System.Text.Json.Serialization;

namespace Portal.Agent.State;

/// <summary>What the agent knows of its registration (<c>agent.json</c> in the state folder). No secret is in it.</summary>
/// <param name="MachineId">The machine's id in the portal.</param>
/// <param name="VaultId">The vault it is registered to.</param>
/// <param name="VaultName">The vault's name, for messages.</param>
/// <param name="MachineName">The machine's name in the vault.</param>
/// <param name="Portal">The portal's address.</param>
/// <param name="RegisteredAt">When it registered.</param>
/// <param name="EscrowKey">The vault's escrow public key (SubjectPublicKeyInfo, base64), kept so a <c>register</c> that stopped after the
/// portal registered the machine can finish the repository step.</param>
/// <param name="RepositoryId">The machine's repository, once made and its key escrowed (null: the repository step is not finished).</param>
internal sealed record AgentState(
    Guid MachineId, Guid VaultId, string VaultName, string MachineName, string Portal, DateTimeOffset RegisteredAt, string EscrowKey,
    string? RepositoryId = null)
{
    /// <summary>The portal's address as a URI.</summary>
    [JsonIgnore]
    public Uri PortalUri => new(Portal);
}

[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(AgentState))]
internal sealed partial class StateJson : JsonSerializerContext;
