# MedZoo dashboard image. CPU by default; GPU hosts build with --build-arg TORCH_BACKEND=cuda
# (TorchSharp-cuda-linux brings libtorch's CUDA libraries; the host needs the NVIDIA driver and
# the NVIDIA container toolkit: docker run --gpus all ...). The CUDA packages come from nuget.org:
# build that variant where the public feed is reachable, and check the GPU build there with
# scripts/gpu-check.sh (README, Docker: GPU image).
#
#   docker build -t medzoo .
#   docker run -p 127.0.0.1:8080:8080 -v medzoo-data:/data \
#     -e MedZoo__Admin__UserName=admin -e MedZoo__Admin__Password=change-me medzoo
#
# The dashboard serves on 0.0.0.0:8080; runs, metrics, checkpoints, accounts and sign-in keys live
# in the /data volume. Without the admin variables, `docker logs` prints a one-time setup link
# (the token is also in /data/setup-token). Only Host names localhost/127.0.0.1/[::1] are served
# unless AllowedHosts names more (-e AllowedHosts=medzoo.example.org).
# Beyond one machine, publish it only through a TLS reverse proxy (Caddy, nginx: pass Host,
# X-Forwarded-Proto, X-Forwarded-For and WebSocket upgrades) and add
#   -e ASPNETCORE_FORWARDEDHEADERS_ENABLED=true -e AllowedHosts=medzoo.example.org
# so that cookies are Secure and HSTS is sent (see README, Docker).

ARG TORCH_BACKEND=cpu

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG TORCH_BACKEND
WORKDIR /src
# Restore first, from the project files alone, so the ~600 MB libtorch download is a cached layer.
COPY Directory.Build.props Directory.Build.targets Directory.Packages.props ./
COPY MedZoo.Engine/MedZoo.Engine.csproj MedZoo.Engine/
COPY MedZoo.Web/MedZoo.Web.csproj MedZoo.Web/NiiVue.targets MedZoo.Web/
RUN dotnet restore MedZoo.Web/MedZoo.Web.csproj -p:TorchBackend=${TORCH_BACKEND}
# npm: the build fetches NiiVue (the review's 3D view) with it (MedZoo.Web/NiiVue.targets).
RUN apt-get update \
 && apt-get install -y --no-install-recommends npm \
 && rm -rf /var/lib/apt/lists/*
COPY MedZoo.Engine/ MedZoo.Engine/
COPY MedZoo.Web/ MedZoo.Web/
RUN dotnet publish MedZoo.Web/MedZoo.Web.csproj -c Release -o /app --no-restore -p:TorchBackend=${TORCH_BACKEND}

# Ubuntu 24.04: its libstdc++ has GLIBCXX_3.4.32, which TorchSharp 0.107's native library needs
# (Debian 12 images do not). libgomp1 is libtorch's OpenMP runtime.
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app ./
# Run as the image's unprivileged user; the volume mount point is created for it.
RUN mkdir -p /data && chown "$APP_UID" /data
USER $APP_UID
ENV MEDZOO_DATA=/data \
    ASPNETCORE_URLS=http://0.0.0.0:8080 \
    DOTNET_CLI_TELEMETRY_OPTOUT=1
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["dotnet", "medzoo.dll"]
CMD ["serve"]
