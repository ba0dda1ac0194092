global using Portal.Data;
global using Portal.Features.Identity;
global using Portal.Features.Regions;
global using Portal.Features.Vaults;
global using Portal.Features.Approvals;
global using Portal.Features.Audit;
global using Portal.Features.Replication;
global using Portal.Features.Policies;
