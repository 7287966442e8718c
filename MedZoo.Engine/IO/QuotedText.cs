namespace MedZoo.Engine.IO;

/// <summary>
/// Text taken from a file (a path in a dataset.json, bytes TorchSharp quotes as a name) made safe to quote in an
/// error message: one line, control characters and undecodable bytes shown as '?', cut at a length.
/// </summary>
internal static class QuotedText
{
    public static string Printable(string text, int max = 200) =>
        new string(text.Take(max).Select(c => char.IsControl(c) || c == '\uFFFD' ? '?' : c).ToArray()) + (text.Length > max ? "…" : "");
}
