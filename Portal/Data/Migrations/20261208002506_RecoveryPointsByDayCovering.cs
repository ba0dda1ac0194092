using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Data.Migrations
{
    /// <inheritdoc />
    public partial class RecoveryPointsByDayCovering : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_recovery_points_CreatedAt",
                table: "recovery_points");

            migrationBuilder.CreateIndex(
                name: "IX_recovery_points_CreatedAt",
                table: "recovery_points",
                column: "CreatedAt")
                .Annotation("Npgsql:IndexInclude", new[] { "ItemId", "VaultId", "Bytes", "BytesAdded" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_recovery_points_CreatedAt",
                table: "recovery_points");

            migrationBuilder.CreateIndex(
                name: "IX_recovery_points_CreatedAt",
                table: "recovery_points",
                column: "CreatedAt");
        }
    }
}
