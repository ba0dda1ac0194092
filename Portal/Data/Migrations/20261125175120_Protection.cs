using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Portal.Data.Migrations
{
    /// <inheritdoc />
    public partial class Protection : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<double>(
                name: "BytesPerSecond",
                table: "jobs",
                type: "double precision",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "CurrentPath",
                table: "jobs",
                type: "character varying(1024)",
                maxLength: 1024,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "ItemId",
                table: "jobs",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "ProgressAt",
                table: "jobs",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "CreatedBy",
                table: "backup_items",
                type: "character varying(256)",
                maxLength: 256,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<List<string>>(
                name: "Exclude",
                table: "backup_items",
                type: "text[]",
                nullable: false);

            migrationBuilder.AddColumn<List<string>>(
                name: "Include",
                table: "backup_items",
                type: "text[]",
                nullable: false);

            migrationBuilder.AddColumn<DateTime>(
                name: "LastBackupAt",
                table: "backup_items",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "LastBackupJobId",
                table: "backup_items",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "LastBackupStatus",
                table: "backup_items",
                type: "character varying(24)",
                maxLength: 24,
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "LatestRecoveryPointAt",
                table: "backup_items",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "PolicyId",
                table: "backup_items",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "ProtectionStoppedAt",
                table: "backup_items",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "SourcePath",
                table: "backup_items",
                type: "character varying(4096)",
                maxLength: 4096,
                nullable: false,
                defaultValue: "");

            migrationBuilder.CreateTable(
                name: "job_log",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    JobId = table.Column<Guid>(type: "uuid", nullable: false),
                    At = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Level = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Text = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_job_log", x => x.Id);
                    table.ForeignKey(
                        name: "FK_job_log_jobs_JobId",
                        column: x => x.JobId,
                        principalTable: "jobs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "recovery_points",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ItemId = table.Column<Guid>(type: "uuid", nullable: false),
                    VaultId = table.Column<Guid>(type: "uuid", nullable: false),
                    SnapshotId = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Type = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Consistency = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    RetainUntil = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    ExpiresAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    Files = table.Column<long>(type: "bigint", nullable: false),
                    Bytes = table.Column<long>(type: "bigint", nullable: false),
                    BytesAdded = table.Column<long>(type: "bigint", nullable: false),
                    Warnings = table.Column<int>(type: "integer", nullable: false),
                    JobId = table.Column<Guid>(type: "uuid", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_recovery_points", x => x.Id);
                    table.ForeignKey(
                        name: "FK_recovery_points_backup_items_ItemId",
                        column: x => x.ItemId,
                        principalTable: "backup_items",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "vault_keys",
                columns: table => new
                {
                    VaultId = table.Column<Guid>(type: "uuid", nullable: false),
                    RepositoryId = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    SealedKey = table.Column<byte[]>(type: "bytea", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    CreatedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_vault_keys", x => x.VaultId);
                    table.ForeignKey(
                        name: "FK_vault_keys_vaults_VaultId",
                        column: x => x.VaultId,
                        principalTable: "vaults",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_jobs_ItemId_QueuedAt",
                table: "jobs",
                columns: new[] { "ItemId", "QueuedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_backup_items_Name",
                table: "backup_items",
                column: "Name");

            migrationBuilder.CreateIndex(
                name: "IX_backup_items_PolicyId",
                table: "backup_items",
                column: "PolicyId");

            migrationBuilder.CreateIndex(
                name: "IX_backup_items_State",
                table: "backup_items",
                column: "State");

            migrationBuilder.CreateIndex(
                name: "IX_job_log_JobId_Id",
                table: "job_log",
                columns: new[] { "JobId", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_recovery_points_ItemId_CreatedAt",
                table: "recovery_points",
                columns: new[] { "ItemId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_recovery_points_VaultId_SnapshotId",
                table: "recovery_points",
                columns: new[] { "VaultId", "SnapshotId" },
                unique: true);

            migrationBuilder.AddForeignKey(
                name: "FK_backup_items_backup_policies_PolicyId",
                table: "backup_items",
                column: "PolicyId",
                principalTable: "backup_policies",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_backup_items_backup_policies_PolicyId",
                table: "backup_items");

            migrationBuilder.DropTable(
                name: "job_log");

            migrationBuilder.DropTable(
                name: "recovery_points");

            migrationBuilder.DropTable(
                name: "vault_keys");

            migrationBuilder.DropIndex(
                name: "IX_jobs_ItemId_QueuedAt",
                table: "jobs");

            migrationBuilder.DropIndex(
                name: "IX_backup_items_Name",
                table: "backup_items");

            migrationBuilder.DropIndex(
                name: "IX_backup_items_PolicyId",
                table: "backup_items");

            migrationBuilder.DropIndex(
                name: "IX_backup_items_State",
                table: "backup_items");

            migrationBuilder.DropColumn(
                name: "BytesPerSecond",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "CurrentPath",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "ItemId",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "ProgressAt",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "CreatedBy",
                table: "backup_items");

            migrationBuilder.DropColumn(
                name: "Exclude",
                table: "backup_items");

            migrationBuilder.DropColumn(
                name: "Include",
                table: "backup_items");

            migrationBuilder.DropColumn(
                name: "LastBackupAt",
                table: "backup_items");

            migrationBuilder.DropColumn(
                name: "LastBackupJobId",
                table: "backup_items");

            migrationBuilder.DropColumn(
                name: "LastBackupStatus",
                table: "backup_items");

            migrationBuilder.DropColumn(
                name: "LatestRecoveryPointAt",
                table: "backup_items");

            migrationBuilder.DropColumn(
                name: "PolicyId",
                table: "backup_items");

            migrationBuilder.DropColumn(
                name: "ProtectionStoppedAt",
                table: "backup_items");

            migrationBuilder.DropColumn(
                name: "SourcePath",
                table: "backup_items");
        }
    }
}
