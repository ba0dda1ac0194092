using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Portal.Features.Common;

namespace Portal.Features.Telemetry;

public static class TelemetryServiceCollectionExtensions
{
    /// <summary>
    /// OpenTelemetry metrics, traces and logs, exported over OTLP to <c>OpenTelemetry:OtlpEndpoint</c> when it is set.
    /// A malformed setting stops the portal at start with what to fix.
    /// </summary>
    public static WebApplicationBuilder AddPortalTelemetry(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        if (string.IsNullOrWhiteSpace(options.OtlpEndpoint))
            return builder;

        if (!Uri.TryCreate(options.OtlpEndpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
            throw new PortalStartupException($"OpenTelemetry:OtlpEndpoint '{options.OtlpEndpoint}' is not an http(s) URL: give the collector's address, e.g. http://127.0.0.1:4318, or leave it empty.");
        if (!Enum.TryParse<OtlpExportProtocol>(options.OtlpProtocol, ignoreCase: true, out var protocol) || !Enum.IsDefined(protocol))
            throw new PortalStartupException($"OpenTelemetry:OtlpProtocol '{options.OtlpProtocol}' is unknown: use HttpProtobuf or Grpc.");
        if (options.MetricsInterval < TimeSpan.FromSeconds(1))
            throw new PortalStartupException("OpenTelemetry:MetricsInterval must be at least 1 second (e.g. 00:01:00).");

        // With HTTP each signal has its own path under the collector's address; gRPC takes the address as it is.
        void Exporter(OtlpExporterOptions o, string signal)
        {
            o.Protocol = protocol;
            o.Endpoint = protocol == OtlpExportProtocol.HttpProtobuf ? new Uri(endpoint, signal) : endpoint;
        }

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(options.ServiceName))
            .WithMetrics(m => m.AddMeter(PortalTelemetry.Name).AddMeter("Microsoft.AspNetCore.Hosting")
                .AddOtlpExporter((o, reader) =>
                {
                    Exporter(o, "v1/metrics");
                    reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)options.MetricsInterval.TotalMilliseconds;
                }))
            .WithTracing(t => t.AddSource(PortalTelemetry.Name).AddAspNetCoreInstrumentation().AddOtlpExporter(o => Exporter(o, "v1/traces")))
            .WithLogging(l => l.AddOtlpExporter(o => Exporter(o, "v1/logs")));
        return builder;
    }
}
