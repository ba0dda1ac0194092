using Portal.Engine.Platform;

namespace Portal.Tests.Engine.Platform;

/// <summary>System errors reach the operator as the system's words, never as a bare error number. Issue 23.</summary>
public sealed class NativeMessageTests
{
    [Fact]
    public void A_name_too_long_is_reported_as_such_not_as_errno_36()
    {
        var path = Path.Combine(Path.GetTempPath(), new string('n', 300));
        var e = Assert.Throws<IOException>(() => Native.TryLStat(path));
        Assert.Contains("File name too long", e.Message);
        Assert.DoesNotContain("errno", e.Message);
    }
}
