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

    /// <summary>
    /// Runs an agent endpoint: its refusals become <see cref="AgentProblem"/> answers, and an unexpected failure a 500 with
    /// words (logged with its details), never the portal's error page or a stack trace.
    /// </summary>
    public static async Task<IResult> RunAsync(HttpContext http, Func<Task<IResult>> handler)
    {
        NoStatusPages(http);
        try
        {
            return await handler();
        }
        catch (AgentRefusedException e)
        {
            return Problem(e.Status, e.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AgentAnswers)).LogError(e, "Agent call {Path} failed", http.Request.Path);
            return Problem(500, "The portal failed on this request; its log has the details. The agent tries again later.");
        }
    }

    /// <summary>Reads the JSON body as <typeparamref name="T"/>; a missing or malformed body is a 400 with what to send.</summary>
    public static async Task<T> ReadAsync<T>(HttpContext http, string what) where T : class
    {
        try
        {
            return await http.Request.ReadFromJsonAsync<T>(http.RequestAborted)
                ?? throw new AgentRefusedException(400, $"Send {what} as JSON: update the agent.");
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or BadHttpRequestException)
        {
            throw new AgentRefusedException(400, $"Send {what} as JSON (application/json): update the agent.");
        }
    }

    /// <summary>The agents' answers are JSON for a program: the portal's status-code pages (HTML) must not replace them.</summary>
    public static void NoStatusPages(HttpContext http)
    {
        if (http.Features.Get<IStatusCodePagesFeature>() is { } pages)
            pages.Enabled = false;
    }
}
