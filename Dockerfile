# The portal, published, on the ASP.NET Core runtime image, as a non-root user.
# Not built on the project's machines (no Docker engine runs there): kept correct by reading the docs.
# syntax=docker/dockerfile:1
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props appsettings.json ./
COPY Portal/Portal.csproj Portal/
COPY Portal.Engine/Portal.Engine.csproj Portal.Engine/
RUN dotnet restore Portal/Portal.csproj
COPY Portal/ Portal/
COPY Portal.Engine/ Portal.Engine/
RUN dotnet publish Portal/Portal.csproj -c Release -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS final
# Vault data (local-disk regions) lives under /data; mount a volume there.
RUN mkdir -p /data/regions && chown -R "$APP_UID" /data
WORKDIR /app
COPY --from=build /app .
ENV ASPNETCORE_HTTP_PORTS=8080 \
    Storage__Root=/data/regions
USER $APP_UID
EXPOSE 8080
VOLUME ["/data"]
ENTRYPOINT ["dotnet", "Portal.dll"]
