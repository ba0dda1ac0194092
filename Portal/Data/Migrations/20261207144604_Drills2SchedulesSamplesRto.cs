using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Data.Migrations
{
    /// <inheritdoc />
    public partial class Drills2SchedulesSamplesRto : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "ConfiguredBy",
                table: "recovery_drills",
                type: "character varying(256)",
                maxLength: 256,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<double>(
                name: "RtoTargetSeconds",
                table: "recovery_drills",
                type: "double precision",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Sample",
                table: "recovery_drills",
                type: "character varying(64)",
                maxLength: 64,
                nullable: false,
                defaultValue: "whole");

            migrationBuilder.AddColumn<string>(
                name: "SampleCursor",
                table: "recovery_drills",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "drill_schedules",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    PolicyId = table.Column<Guid>(type: "uuid", nullable: true),
                    ItemId = table.Column<Guid>(type: "uuid", nullable: true),
                    Frequency = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Day = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    DayOfMonth = table.Column<int>(type: "integer", nullable: false),
                    TimeUtc = table.Column<TimeOnly>(type: "time without time zone", nullable: false),
                    Sample = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    SampleSize = table.Column<long>(type: "bigint", nullable: false),
                    RtoTargetMinutes = table.Column<int>(type: "integer", nullable: true),
                    UpdatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    UpdatedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_drill_schedules", x => x.Id);
                    table.CheckConstraint("ck_drill_schedules_one_owner", "(\"PolicyId\" IS NULL) <> (\"ItemId\" IS NULL)");
                    table.ForeignKey(
                        name: "FK_drill_schedules_backup_items_ItemId",
                        column: x => x.ItemId,
                        principalTable: "backup_items",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_drill_schedules_backup_policies_PolicyId",
                        column: x => x.PolicyId,
                        principalTable: "backup_policies",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_drill_schedules_ItemId",
                table: "drill_schedules",
                column: "ItemId",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_drill_schedules_PolicyId",
                table: "drill_schedules",
                column: "PolicyId",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "drill_schedules");

            migrationBuilder.DropColumn(
                name: "ConfiguredBy",
                table: "recovery_drills");

            migrationBuilder.DropColumn(
                name: "RtoTargetSeconds",
                table: "recovery_drills");

            migrationBuilder.DropColumn(
                name: "Sample",
                table: "recovery_drills");

            migrationBuilder.DropColumn(
                name: "SampleCursor",
                table: "recovery_drills");
        }
    }
}
