namespace DistillSpec.Cli;

internal static class CliErrors
{
    /// <summary>Bad input ends with one clear line on stderr and exit code 1, not a stack trace.</summary>
    public static int Guard(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException
                                       or FormatException or Models.ModelFormatException or SafeTensors.SafeTensorsException
                                       or Models.ContextLengthException or Generation.NonFiniteLogitsException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
