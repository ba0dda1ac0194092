namespace Portal.Agent;

/// <summary>A failure to show as it is: what is wrong and what to do (exit code 1, never a stack trace).</summary>
internal sealed class AgentException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A wrong command line: printed as one line, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
