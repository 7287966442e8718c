using System.Text.RegularExpressions;
using MedZoo.Engine;
using MedZoo.Engine.Training;

namespace MedZoo.Web.Runs.Forms;

/// <summary>A problem with a form: the option it is about (null when it concerns none) and what is wrong, in the user's words.</summary>
/// <param name="Path">The option's dotted path ("Sampling.PatchSize"), or null.</param>
/// <param name="Message">A sentence for the user, without the option's internal name or .NET text.</param>
public sealed record FieldError(string? Path, string Message);

/// <summary>
/// The one place where a validation error becomes a field's message: options' <c>Validate()</c> throw
/// <see cref="InvalidOptionException"/>, whose <see cref="OptionError"/> keeps the field's path and the
/// problem apart (see <see cref="TrainerOptions.Validate"/>); the problem is rewritten with the form's
/// labels instead of the property names it mentions.
/// </summary>
public static partial class ValidationMessages
{
    /// <summary>The field an invalid option is (null when the form has no such field) and its problem in the user's words.</summary>
    public static FieldError FromError(OptionError error, IReadOnlyList<OptionField> fields)
    {
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(fields);
        return fields.FirstOrDefault(f => f.Path == error.Path) is { } field
            ? new FieldError(field.Path, Sentence(InUserWords(error.Problem, fields)))
            : new FieldError(null, Sentence(InUserWords(error.ToString(), fields)));
    }

    /// <summary>
    /// A refused start as the form shows it: an <see cref="InvalidOptionException"/> on its field
    /// (<see cref="FromError"/>), any other problem for the banner, in the user's words.
    /// </summary>
    public static FieldError FromException(ArgumentException exception, IReadOnlyList<OptionField> fields)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception is InvalidOptionException invalid
            ? FromError(invalid.Error, fields)
            : new FieldError(null, Sentence(InUserWords(TrainerOptions.PlainMessage(exception), fields)));
    }

    /// <summary>
    /// <paramref name="text"/> with option paths ("LossOptions.TverskyBeta") and property names of
    /// more than one word ("ElasticGridSpacing") replaced by the labels the form shows ("Tversky beta").
    /// </summary>
    public static string InUserWords(string text, IReadOnlyList<OptionField> fields)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Identifier().Replace(text, m =>
        {
            var word = m.Value;
            if (fields.FirstOrDefault(f => f.Path == word) is { } byPath) return byPath.Label;
            var last = word.Split('.')[^1];
            var isOptionName = word.Contains('.') || MultiWord().IsMatch(last);
            if (!isOptionName) return word;
            if (fields.FirstOrDefault(f => f.Path.Split('.')[^1] == last) is { } byName) return byName.Label;
            // A group of options named on its own ("LossOptions") reads as its title.
            if (!word.Contains('.') && fields.Any(f => f.Group == word)) return OptionFields.Humanize(word);
            return word;
        });
    }

    /// <summary>Starts with a capital and ends with a full stop.</summary>
    public static string Sentence(string text)
    {
        text = text.Trim();
        if (text.Length == 0) return text;
        if (char.IsLower(text[0])) text = char.ToUpperInvariant(text[0]) + text[1..];
        return text.EndsWith('.') || text.EndsWith('?') || text.EndsWith('!') ? text : text + ".";
    }

    // Identifiers, dotted paths included; not inside words such as model names (UNET3D_CICEK).
    [GeneratedRegex(@"(?<![\w'])[A-Za-z][A-Za-z0-9]*(?:\.[A-Z][A-Za-z0-9]*)*(?![\w'])")]
    private static partial Regex Identifier();

    // PascalCase of two words or more: "PatchSize", "LossOptions" (not "Split", not "UNET").
    [GeneratedRegex("^[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+$")]
    private static partial Regex MultiWord();
}
