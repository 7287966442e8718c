namespace MedZoo.Reliability;

/// <summary>Entry point (a named class, so that the tests' <c>Program</c>, MedZoo.Web's, stays unambiguous).</summary>
internal static class Program
{
    private static int Main(string[] args) => ReliabilityCli.Run(args);
}
