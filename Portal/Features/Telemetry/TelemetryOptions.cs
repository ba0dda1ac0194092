namespace Portal.Features.Telemetry;

/// <summary>The <c>OpenTelemetry</c> section: where metrics, traces and logs go (nowhere when no endpoint is set).</summary>
public sealed class TelemetryOptions
{
    public const string Section = "OpenTelemetry";

    /// <summary>The service name resources carry (default "backup-portal").</summary>
    public string ServiceName { get; set; } = "backup-portal";

    /// <summary>The OTLP collector, e.g. http://127.0.0.1:4318 (empty: no export; metrics are still observable in-process).</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>"HttpProtobuf" (port 4318, default) or "Grpc" (port 4317).</summary>
    public string OtlpProtocol { get; set; } = "HttpProtobuf";

    /// <summary>How often metrics are exported (default 60 s).</summary>
    public TimeSpan MetricsInterval { get; set; } = TimeSpan.FromSeconds(60);
}
