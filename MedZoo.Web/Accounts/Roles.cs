using System.Security.Claims;

namespace MedZoo.Web.Accounts;

/// <summary>
/// The three roles and the policies built on them. Each role includes the ones before it:
/// a viewer watches, an operator also starts, stops and uploads, an admin also manages users.
/// </summary>
public static class Roles
{
    public const string Viewer = "viewer";
    public const string Operator = "operator";
    public const string Admin = "admin";

    /// <summary>Every role, weakest first.</summary>
    public static IReadOnlyList<string> All { get; } = [Viewer, Operator, Admin];

    /// <summary>Policy: may start, stop, pause, resume, delete runs and upload.</summary>
    public const string OperatePolicy = "operate";

    /// <summary>Policy: may manage users.</summary>
    public const string AdministerPolicy = "administer";

    /// <summary>True if <paramref name="role"/> is one of <see cref="All"/>.</summary>
    public static bool IsValid(string? role) => role is not null && All.Contains(role);

    /// <summary>
    /// The weakest role that satisfies every policy in <paramref name="authorization"/> (a page's or
    /// endpoint's [Authorize] data); null when none of them names a role policy.
    /// </summary>
    public static string? RequiredRole(IEnumerable<Microsoft.AspNetCore.Authorization.IAuthorizeData> authorization)
    {
        string? role = null;
        foreach (var data in authorization)
        {
            var needed = data.Policy switch { AdministerPolicy => Admin, OperatePolicy => Operator, _ => null };
            if (needed is not null && (role is null || Rank(needed) > Rank(role))) role = needed;
        }
        return role;
    }

    /// <summary>What a refused user reads: the role the page needs when known.</summary>
    public static string DeniedMessage(string? requiredRole) => requiredRole is null
        ? "Your role does not allow this page. Ask an admin for a role that does."
        : $"This page needs the {requiredRole} role. Ask an admin for it.";

    private static int Rank(string role) => All.ToList().IndexOf(role);

    /// <summary>True if the user may operate runs.</summary>
    public static bool CanOperate(this ClaimsPrincipal user) =>
        user.Identity?.IsAuthenticated == true && (user.IsInRole(Operator) || user.IsInRole(Admin));

    /// <summary>True if the user may manage users.</summary>
    public static bool CanAdminister(this ClaimsPrincipal user) =>
        user.Identity?.IsAuthenticated == true && user.IsInRole(Admin);

    /// <summary>Throws <see cref="UnauthorizedAccessException"/> unless the user may operate runs.</summary>
    public static void DemandOperator(this ClaimsPrincipal user, string action)
    {
        if (!user.CanOperate())
            throw new UnauthorizedAccessException($"{user.Identity?.Name ?? "anonymous"} may not {action}: it needs the operator or admin role");
    }

    /// <summary>Throws <see cref="UnauthorizedAccessException"/> unless the user is an admin.</summary>
    public static void DemandAdmin(this ClaimsPrincipal user, string action)
    {
        if (!user.CanAdminister())
            throw new UnauthorizedAccessException($"{user.Identity?.Name ?? "anonymous"} may not {action}: it needs the admin role");
    }
}
