using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Data.Migrations
{
    /// <inheritdoc />
    public partial class JobPipeline : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "Attempt",
                table: "jobs",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<string>(
                name: "ConcurrencyKey",
                table: "jobs",
                type: "character varying(128)",
                maxLength: 128,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Input",
                table: "jobs",
                type: "jsonb",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Operation",
                table: "jobs",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "RunBy",
                table: "jobs",
                type: "character varying(256)",
                maxLength: 256,
                nullable: true);

            // Jobs queued before the pipeline waited on one-shot Quartz triggers that no longer exist: say so, never leave them Queued.
            migrationBuilder.Sql("""
                UPDATE jobs SET "Status" = 'Failed', "EndedAt" = now() AT TIME ZONE 'utc',
                    "Message" = 'Queued before the portal was upgraded to the job pipeline, and not started. Start it again.'
                WHERE "Status" = 'Queued' AND "Operation" IS NULL
                """);

            migrationBuilder.CreateIndex(
                name: "IX_jobs_Status_ConcurrencyKey",
                table: "jobs",
                columns: new[] { "Status", "ConcurrencyKey" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_jobs_Status_ConcurrencyKey",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "Attempt",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "ConcurrencyKey",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "Input",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "Operation",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "RunBy",
                table: "jobs");
        }
    }
}
