namespace MedZoo.Web.Runs.Forms;

/// <summary>Places a validation message next to the option it names.</summary>
public static class ValidationMessages
{
    /// <summary>
    /// The option a message is about: the longest option path (or, failing that, property name)
    /// that the message mentions, as options' <c>Validate()</c> name the bad field; null if none.
    /// </summary>
    public static string? FieldOf(string message, IReadOnlyList<OptionField> fields) =>
        fields.Where(f => message.Contains(f.Path, StringComparison.OrdinalIgnoreCase)).OrderByDescending(f => f.Path.Length).FirstOrDefault()?.Path
        ?? fields.Where(f => message.Contains(f.Path.Split('.')[^1], StringComparison.Ordinal)).OrderByDescending(f => f.Path.Length).FirstOrDefault()?.Path;
}
