using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Portal.Features.Regions;

#nullable disable

namespace Portal.Data.Migrations
{
    /// <inheritdoc />
    public partial class BackupCenterAndWorkloads : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "DatabaseHost",
                table: "backup_items",
                type: "character varying(255)",
                maxLength: 255,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "DatabaseName",
                table: "backup_items",
                type: "character varying(63)",
                maxLength: 63,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "DatabasePort",
                table: "backup_items",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "DatabaseUser",
                table: "backup_items",
                type: "character varying(63)",
                maxLength: 63,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "PostScript",
                table: "backup_items",
                type: "character varying(4096)",
                maxLength: 4096,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "PreScript",
                table: "backup_items",
                type: "character varying(4096)",
                maxLength: 4096,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "ScriptTimeoutSeconds",
                table: "backup_items",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<byte[]>(
                name: "SealedDatabasePassword",
                table: "backup_items",
                type: "bytea",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "storage_usage",
                columns: table => new
                {
                    VaultId = table.Column<Guid>(type: "uuid", nullable: false),
                    Region = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Day = table.Column<DateOnly>(type: "date", nullable: false),
                    Bytes = table.Column<long>(type: "bigint", nullable: false),
                    Objects = table.Column<long>(type: "bigint", nullable: false),
                    MeasuredAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_storage_usage", x => new { x.VaultId, x.Region, x.Day });
                    table.ForeignKey(
                        name: "FK_storage_usage_vaults_VaultId",
                        column: x => x.VaultId,
                        principalTable: "vaults",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_recovery_points_CreatedAt",
                table: "recovery_points",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_storage_usage_Day",
                table: "storage_usage",
                column: "Day");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "storage_usage");

            migrationBuilder.DropIndex(
                name: "IX_recovery_points_CreatedAt",
                table: "recovery_points");

            migrationBuilder.DropColumn(
                name: "DatabaseHost",
                table: "backup_items");

            migrationBuilder.DropColumn(
                name: "DatabaseName",
                table: "backup_items");

            migrationBuilder.DropColumn(
                name: "DatabasePort",
                table: "backup_items");

            migrationBuilder.DropColumn(
                name: "DatabaseUser",
                table: "backup_items");

            migrationBuilder.DropColumn(
                name: "PostScript",
                table: "backup_items");

            migrationBuilder.DropColumn(
                name: "PreScript",
                table: "backup_items");

            migrationBuilder.DropColumn(
                name: "ScriptTimeoutSeconds",
                table: "backup_items");

            migrationBuilder.DropColumn(
                name: "SealedDatabasePassword",
                table: "backup_items");
        }
    }
}
