using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Data.Migrations
{
    /// <inheritdoc />
    public partial class Machines : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "MachineId",
                table: "jobs",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "MachineId",
                table: "backup_items",
                type: "uuid",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "machine_credentials",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    VaultId = table.Column<Guid>(type: "uuid", nullable: false),
                    SecretHash = table.Column<byte[]>(type: "bytea", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    CreatedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    UsedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    MachineId = table.Column<Guid>(type: "uuid", nullable: true),
                    RevokedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    RevokedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    xmin = table.Column<uint>(type: "xid", rowVersion: true, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_machine_credentials", x => x.Id);
                    table.ForeignKey(
                        name: "FK_machine_credentials_vaults_VaultId",
                        column: x => x.VaultId,
                        principalTable: "vaults",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "machines",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    VaultId = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(253)", maxLength: 253, nullable: false),
                    NormalizedName = table.Column<string>(type: "character varying(253)", maxLength: 253, nullable: false),
                    OperatingSystem = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    AgentVersion = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    SigningKey = table.Column<byte[]>(type: "bytea", nullable: false),
                    AgreementKey = table.Column<byte[]>(type: "bytea", nullable: false),
                    RepositoryId = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    EscrowedRepositoryKey = table.Column<byte[]>(type: "bytea", nullable: true),
                    CredentialId = table.Column<Guid>(type: "uuid", nullable: false),
                    RegisteredBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    RegisteredAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    LastContactAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    ConnectedTo = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    ConnectedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    DisconnectedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    RevokedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    RevokedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    UploadKiBPerSecond = table.Column<int>(type: "integer", nullable: true),
                    OffHoursUploadKiBPerSecond = table.Column<int>(type: "integer", nullable: true),
                    xmin = table.Column<uint>(type: "xid", rowVersion: true, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_machines", x => x.Id);
                    table.ForeignKey(
                        name: "FK_machines_vaults_VaultId",
                        column: x => x.VaultId,
                        principalTable: "vaults",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "vault_escrow_keys",
                columns: table => new
                {
                    VaultId = table.Column<Guid>(type: "uuid", nullable: false),
                    PublicKey = table.Column<byte[]>(type: "bytea", nullable: false),
                    SealedPrivateKey = table.Column<byte[]>(type: "bytea", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_vault_escrow_keys", x => x.VaultId);
                    table.ForeignKey(
                        name: "FK_vault_escrow_keys_vaults_VaultId",
                        column: x => x.VaultId,
                        principalTable: "vaults",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_jobs_MachineId_Status",
                table: "jobs",
                columns: new[] { "MachineId", "Status" });

            migrationBuilder.CreateIndex(
                name: "IX_backup_items_MachineId",
                table: "backup_items",
                column: "MachineId");

            migrationBuilder.CreateIndex(
                name: "IX_machine_credentials_VaultId_CreatedAt",
                table: "machine_credentials",
                columns: new[] { "VaultId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_machines_VaultId_NormalizedName",
                table: "machines",
                columns: new[] { "VaultId", "NormalizedName" },
                unique: true,
                filter: "\"RevokedAt\" IS NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "machine_credentials");

            migrationBuilder.DropTable(
                name: "machines");

            migrationBuilder.DropTable(
                name: "vault_escrow_keys");

            migrationBuilder.DropIndex(
                name: "IX_jobs_MachineId_Status",
                table: "jobs");

            migrationBuilder.DropIndex(
                name: "IX_backup_items_MachineId",
                table: "backup_items");

            migrationBuilder.DropColumn(
                name: "MachineId",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "MachineId",
                table: "backup_items");
        }
    }
}
