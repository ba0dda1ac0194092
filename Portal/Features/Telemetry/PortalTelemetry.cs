using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Portal.Features.Telemetry;

/// <summary>
/// The portal's own meter and activity source ("Portal"), exported over OTLP when configured (see
/// <see cref="TelemetryServiceCollectionExtensions"/>). The features record into them: jobs (started, finished, bytes
/// backed up, restore durations, a span per job) in <c>Jobs.JobTelemetry</c>, replication lag in
/// <c>Replication.ReplicationStatus</c>; this feature knows none of them.
/// </summary>
public static class PortalTelemetry
{
    public const string Name = "Portal";

    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);
}
