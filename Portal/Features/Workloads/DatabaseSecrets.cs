using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Portal.Features.Common;

namespace Portal.Features.Workloads;

/// <summary>
/// Seals database passwords with ASP.NET Core Data Protection, with the key ring that seals vault keys
/// (Protection:KeyRingPath): the database holds only the sealed bytes, and no log line ever holds the password.
/// </summary>
public sealed class DatabaseSecrets(IDataProtectionProvider dataProtection)
{
    private readonly IDataProtector protector = dataProtection.CreateProtector("Portal.Workloads.DatabasePassword.v1");

    public byte[] Seal(string password) => protector.Protect(System.Text.Encoding.UTF8.GetBytes(password));

    /// <summary>The password, or a conflict saying the key ring is not the one that sealed it.</summary>
    public string Unseal(byte[]? sealedPassword, string itemName)
    {
        if (sealedPassword is null)
            return "";
        try
        {
            return System.Text.Encoding.UTF8.GetString(protector.Unprotect(sealedPassword));
        }
        catch (CryptographicException)
        {
            throw new PortalConflictException(
                $"This portal host cannot unseal the database password of {itemName}: its Data Protection key ring (Protection:KeyRingPath) is not the one " +
                "that sealed it. Point every portal host at the same key ring, or set the item's password again.");
        }
    }
}
