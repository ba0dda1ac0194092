using System.Text.Json;
using System.Text.Json.Serialization;
using Portal.Engine.Agents;

namespace Portal.Agent.State;

/// <summary>The JSON of the wire contract's types as the agent reads and writes them (web defaults: camelCase, case-insensitive).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(MachineCredentialsFile))]
[JsonSerializable(typeof(RegisterRequest))]
[JsonSerializable(typeof(RegisterResponse))]
[JsonSerializable(typeof(RepositoryKeyRequest))]
[JsonSerializable(typeof(AgentProblem))]
[JsonSerializable(typeof(MachineBackupInput))]
[JsonSerializable(typeof(MachineBackupResult))]
[JsonSerializable(typeof(MachineRestoreInput))]
[JsonSerializable(typeof(MachineRestoreResult))]
[JsonSerializable(typeof(MachineDrillInput))]
[JsonSerializable(typeof(MachineDrillResult))]
internal sealed partial class WireJson : JsonSerializerContext;
