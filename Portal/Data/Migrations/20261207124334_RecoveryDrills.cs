using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Data.Migrations
{
    /// <inheritdoc />
    public partial class RecoveryDrills : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "recovery_drills",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ItemId = table.Column<Guid>(type: "uuid", nullable: false),
                    VaultId = table.Column<Guid>(type: "uuid", nullable: false),
                    JobId = table.Column<Guid>(type: "uuid", nullable: true),
                    SnapshotId = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    PointCreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    StartedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    FinishedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Result = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    FilesVerified = table.Column<long>(type: "bigint", nullable: false),
                    BytesVerified = table.Column<long>(type: "bigint", nullable: false),
                    FilesInPoint = table.Column<long>(type: "bigint", nullable: false),
                    BytesInPoint = table.Column<long>(type: "bigint", nullable: false),
                    RestoreSeconds = table.Column<double>(type: "double precision", nullable: false),
                    EstimatedFullRestoreSeconds = table.Column<double>(type: "double precision", nullable: false),
                    Detail = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: false),
                    RequestedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_recovery_drills", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_recovery_drills_ItemId_FinishedAt",
                table: "recovery_drills",
                columns: new[] { "ItemId", "FinishedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "recovery_drills");
        }
    }
}
