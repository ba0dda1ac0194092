namespace Portal.Features.Common;

/// <summary>A configuration or environment problem found at start; its message is the one line the operator reads.</summary>
public sealed class PortalStartupException(string message) : Exception(message);
