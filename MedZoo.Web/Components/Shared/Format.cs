using System.Globalization;

namespace MedZoo.Web.Components.Shared;

/// <summary>How numbers and durations read on the run pages.</summary>
public static class Format
{
    /// <summary>A Dice score or "—".</summary>
    public static string Dice(double? d) => d is { } v && double.IsFinite(v) ? v.ToString("0.0000", CultureInfo.InvariantCulture) : "—";

    /// <summary>A loss or "—".</summary>
    public static string Loss(double? d) => d is { } v && double.IsFinite(v) ? v.ToString("0.####", CultureInfo.InvariantCulture) : "—";

    /// <summary>"1 h 02 min", "3 min 05 s", "12 s".</summary>
    public static string Duration(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{(int)t.TotalHours} h {t.Minutes:00} min"
        : t.TotalMinutes >= 1 ? $"{t.Minutes} min {t.Seconds:00} s"
        : $"{t.Seconds} s";

    /// <summary>A UTC time shown in the viewer's server-side local time, to the second.</summary>
    public static string Time(DateTime? utc) => utc is { } t ? t.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "—";
}
