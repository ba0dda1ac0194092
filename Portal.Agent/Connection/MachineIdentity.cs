using System.Security.Cryptography;
using Portal.Engine.Agents;

namespace Portal.Agent.Connection;

/// <summary>Who the machine is to the portal: its id and its private keys, which never leave the machine.</summary>
internal sealed class MachineIdentity(Guid machineId, ECDsa signingKey, ECDiffieHellman agreementKey, TimeProvider? time = null) : IDisposable
{
    private readonly TimeProvider time = time ?? TimeProvider.System;

    /// <summary>The machine's id in the portal.</summary>
    public Guid MachineId => machineId;

    /// <summary>The key that opens what the portal sealed to this machine (a restore's grant).</summary>
    public ECDiffieHellman AgreementKey => agreementKey;

    /// <summary>A fresh machine token (valid for minutes; make one per request).</summary>
    public string Token() => MachineToken.Create(machineId, signingKey, time.GetUtcNow());

    /// <summary>The <c>Authorization</c> header value of the next request: <c>Machine TOKEN</c>.</summary>
    public string Authorization() => $"{MachineToken.Scheme} {Token()}";

    /// <summary>Makes a new pair of P-256 keys (signing, agreement) for a registration.</summary>
    public static (ECDsa Signing, ECDiffieHellman Agreement) NewKeys() =>
        (ECDsa.Create(ECCurve.NamedCurves.nistP256), ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256));

    /// <inheritdoc />
    public void Dispose()
    {
        signingKey.Dispose();
        agreementKey.Dispose();
    }
}
