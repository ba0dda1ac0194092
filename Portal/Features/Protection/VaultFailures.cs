using Portal.Engine;
using Portal.Engine.Storage;

namespace Portal.Features.Protection;

/// <summary>
/// The failures every job that opens a vault can meet (its key, its backup data, its storage), worded once; each job
/// kind adds what its own work leaves behind, and words the failures of its own work itself.
/// </summary>
public static class VaultFailures
{
    /// <param name="e">The failure.</param>
    /// <param name="whatStays">What the job's work leaves when storage fails, e.g. "the next backup reuses what was uploaded".</param>
    /// <returns>What went wrong and what to do; null when the failure is not the vault's.</returns>
    public static string? Explain(Exception e, string whatStays) => e switch
    {
        VaultLockedException => e.Message,
        Common.PortalException => e.Message,
        RepositoryException => $"The vault's backup data could not be used: {e.Message} Run a check of the vault to see what is damaged.",
        StoreException => $"The vault's storage failed: {e.Message} Check that the region's replicas are reachable; {whatStays}.",
        _ => null,
    };
}
