using Microsoft.Extensions.Options;

namespace MedZoo.Web.Settings;

/// <summary>
/// The one way the dashboard's settings classes are bound: from their configuration section,
/// checked by their own <c>Validate()</c> when the server starts, so that a bad setting stops the
/// server with the setting's name ("MedZoo:Live:StepBacklog must be at least 1, got 0") instead of
/// failing later inside whatever first reads it.
/// </summary>
public static class SettingsBinding
{
    /// <summary>
    /// <c>AddOptions&lt;T&gt;().Bind(section).Validate(...).ValidateOnStart()</c>, where the validation
    /// runs <paramref name="validate"/> and a thrown <see cref="ArgumentException"/> or
    /// <see cref="InvalidOperationException"/> becomes the start failure with its message.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configuration">The host's configuration.</param>
    /// <param name="section">The section the settings bind from ("MedZoo:Live").</param>
    /// <param name="validate">Throws naming the bad setting with its full configuration key.</param>
    public static OptionsBuilder<T> AddSettings<T>(this IServiceCollection services, IConfiguration configuration, string section, Action<T> validate)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(validate);
        var builder = services.AddOptions<T>().Bind(configuration.GetSection(section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<T>>(new SettingsValidator<T>(builder.Name, validate));
        return builder;
    }

    /// <summary>Turns a settings class's throwing <c>Validate()</c> into an options validation result.</summary>
    private sealed class SettingsValidator<T>(string? name, Action<T> validate) : IValidateOptions<T> where T : class
    {
        public ValidateOptionsResult Validate(string? optionsName, T options)
        {
            if (name is not null && name != optionsName) return ValidateOptionsResult.Skip;
            try
            {
                validate(options);
                return ValidateOptionsResult.Success;
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                return ValidateOptionsResult.Fail(e.Message);
            }
        }
    }
}
