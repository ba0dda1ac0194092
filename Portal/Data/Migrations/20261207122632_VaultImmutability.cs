using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Data.Migrations
{
    /// <inheritdoc />
    public partial class VaultImmutability : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Immutability",
                table: "vaults",
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "Disabled");

            migrationBuilder.AddColumn<DateTime>(
                name: "ImmutableUntil",
                table: "recovery_points",
                type: "timestamp with time zone",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Immutability",
                table: "vaults");

            migrationBuilder.DropColumn(
                name: "ImmutableUntil",
                table: "recovery_points");
        }
    }
}
