using System.Text;

namespace Portal.Agent.Commands;

/// <summary>The machine's passphrase: asked twice without echo, or the first line of <c>--passphrase-file</c>. Never printed.</summary>
internal static class Passphrase
{
    /// <summary>The shortest passphrase accepted (the engine's rule).</summary>
    public const int MinLength = Engine.Crypto.PassphraseRules.MinLength;

    /// <summary>Reads a new passphrase (file, or asked twice) and checks it.</summary>
    public static string ReadNew(string? file)
    {
        if (file is not null)
            return Check(FromFile(file), $"The passphrase in {file}");
        Console.Error.WriteLine($"Choose the passphrase of this machine's backups ({MinLength} characters or more). It never leaves this machine and the portal " +
                                "cannot recover it: keep it somewhere safe. With the vault's storage and this passphrase alone, Portal.Cli restores this machine's data.");
        var first = Check(Ask("Passphrase: "), "The passphrase");
        var second = Ask("Passphrase again: ");
        if (!string.Equals(first, second, StringComparison.Ordinal))
            throw new AgentException("The two passphrases differ. Run the command again and type the same passphrase twice.");
        return first;
    }

    /// <summary>The first line of <paramref name="file"/>.</summary>
    public static string FromFile(string file)
    {
        try
        {
            using var reader = new StreamReader(file, Encoding.UTF8);
            return reader.ReadLine() ?? "";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AgentException($"The passphrase file {file} cannot be read: {e.Message}");
        }
    }

    private static string Check(string passphrase, string what) =>
        passphrase.Length < MinLength
            ? throw new AgentException($"{what} is too short: {passphrase.Length} characters; it needs at least {MinLength}. Choose a longer one (a few words make a good one).")
            : Engine.Crypto.PassphraseRules.Problem(passphrase) is { } problem ? throw new AgentException($"{what} is refused. {problem}") : passphrase;

    private static string Ask(string prompt)
    {
        Console.Error.Write(prompt);
        if (Console.IsInputRedirected)
        {
            var line = Console.In.ReadLine() ?? throw new AgentException("No passphrase was given (the input ended). Give one with --passphrase-file FILE.");
            Console.Error.WriteLine();
            return line;
        }

        var text = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
                break;
            if (key.Key == ConsoleKey.Backspace)
            {
                if (text.Length > 0) text.Length--;
            }
            else if (!char.IsControl(key.KeyChar))
            {
                text.Append(key.KeyChar);
            }
        }

        Console.Error.WriteLine();
        return text.ToString();
    }
}
