using Microsoft.AspNetCore.Diagnostics;
using Portal.Engine.Agents;

namespace Portal.Features.Machines.Access;

/// <summary>A refusal of an agent's call: the HTTP status and the words the agent shows as they are.</summary>
public sealed class AgentRefusedException(int status, string message) : Exception(message)
{
    /// <summary>The HTTP status of the answer (400, 401, 403, 404, 409, 413, 416, 503).</summary>
    public int Status { get; } = status;
}

/// <summary>Writes <see cref="AgentProblem"/> answers (never a stack trace or a type name).</summary>
internal static class AgentAnswers
{
    public static IResult Problem(int status, string message) => Results.Json(new AgentProblem(message), statusCode: status);

    public static async Task WriteAsync(HttpContext http, int status, string message)
    {
        http.Response.StatusCode = status;
        if (HttpMethods.IsHead(http.Request.Method))
            return;
        await http.Response.WriteAsJsonAsync(new AgentProblem(message));
    }

    /// <summary>The agents' answers are JSON for a program: the portal's status-code pages (HTML) must not replace them.</summary>
    public static void NoStatusPages(HttpContext http)
    {
        if (http.Features.Get<IStatusCodePagesFeature>() is { } pages)
            pages.Enabled = false;
    }
}
