using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Data.Migrations
{
    /// <inheritdoc />
    public partial class VaultVerification : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "repository_verifications",
                columns: table => new
                {
                    VaultId = table.Column<Guid>(type: "uuid", nullable: false),
                    Repository = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Cursor = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    PassStartedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    PassBytesRead = table.Column<long>(type: "bigint", nullable: false),
                    LastPassStartedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    LastPassCompletedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    LastCheckedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    LastJobId = table.Column<Guid>(type: "uuid", nullable: true),
                    LastProblems = table.Column<int>(type: "integer", nullable: false),
                    PacksTotal = table.Column<int>(type: "integer", nullable: false),
                    BytesTotal = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_repository_verifications", x => new { x.VaultId, x.Repository });
                    table.ForeignKey(
                        name: "FK_repository_verifications_vaults_VaultId",
                        column: x => x.VaultId,
                        principalTable: "vaults",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "vault_verifications",
                columns: table => new
                {
                    VaultId = table.Column<Guid>(type: "uuid", nullable: false),
                    Enabled = table.Column<bool>(type: "boolean", nullable: false),
                    PeriodDays = table.Column<int>(type: "integer", nullable: false),
                    NightlyReadBudgetBytes = table.Column<long>(type: "bigint", nullable: false),
                    ChangedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    ChangedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_vault_verifications", x => x.VaultId);
                    table.ForeignKey(
                        name: "FK_vault_verifications_vaults_VaultId",
                        column: x => x.VaultId,
                        principalTable: "vaults",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "repository_verifications");

            migrationBuilder.DropTable(
                name: "vault_verifications");
        }
    }
}
