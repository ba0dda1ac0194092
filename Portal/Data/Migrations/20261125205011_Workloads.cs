using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Data.Migrations
{
    /// <inheritdoc />
    public partial class Workloads : Migration
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
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
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
