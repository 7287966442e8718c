namespace MedZoo.Web.Api;

/// <summary>Which request paths are served to programs (the HTTP API and the SignalR hubs) rather than to browsers' pages.</summary>
public static class ApiPaths
{
    /// <summary>True for paths served to programs rather than browsers' pages.</summary>
    public static bool IsApiOrHub(PathString path) => path.StartsWithSegments("/api") || path.StartsWithSegments("/hubs");
}
