# Multi-stage build: the SDK image builds and publishes, the ASP.NET runtime image runs the host.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig Modulith.sln ./
COPY src/ src/
COPY plugins/ plugins/
RUN dotnet publish src/Modulith.Host/Modulith.Host.csproj -c Release -o /app --nologo \
 && cp -r src/Modulith.Host/bin/Release/net10.0/plugins /app/plugins

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
ENV ASPNETCORE_URLS=http://+:8080 \
    Modulith__DataDirectory=/data
RUN mkdir -p /data /app/plugins && chown -R app:app /data /app/plugins
USER app
VOLUME ["/data", "/app/plugins"]
EXPOSE 8080 11111 30000
ENTRYPOINT ["dotnet", "Modulith.Host.dll"]
