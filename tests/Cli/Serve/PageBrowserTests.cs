using System.Text.Json;
using Microsoft.Playwright;

namespace DistillSpec.Tests.Cli.Serve;

/// <summary>Runs only where a chromium binary exists (Debian's package: apt-get install chromium); says so when skipped.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public static readonly string? Executable =
        new[] { Environment.GetEnvironmentVariable("CHROMIUM_PATH"), "/usr/bin/chromium", "/usr/bin/chromium-browser" }
            .FirstOrDefault(path => !string.IsNullOrEmpty(path) && File.Exists(path));

    public ChromiumFactAttribute()
    {
        if (Executable is null) Skip = "no chromium binary at /usr/bin/chromium (or $CHROMIUM_PATH): install it with `apt-get install -y chromium` to run the browser test";
    }
}

/// <summary>The page at / in a real headless chromium: it streams a reply, colours tokens by origin and shows per-position acceptance.</summary>
[Collection(ServerCollection.Name)]
public sealed class PageBrowserTests(ServerFixture server)
{
    [ChromiumFact]
    public async Task Page_streams_a_reply_coloured_by_origin_with_acceptance_by_position()
    {
        using var playwright = await Playwright.CreateAsync();
        // --no-sandbox: CI and this machine run as root, where chromium's sandbox refuses to start.
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumFactAttribute.Executable,
            Headless = true,
            Args = ["--no-sandbox"],
        });
        var page = await browser.NewPageAsync();
        await page.GotoAsync(server.Address.ToString());
        await Assertions.Expect(page.Locator("#model")).ToContainTextAsync("draft-code-tvd");

        const string question = "Write a function that parses a date.";
        await page.FillAsync("#prompt", question);
        await page.FillAsync("#max-tokens", "24");
        await page.FillAsync("#temperature", "0");
        // Records, at every change of the table, whether the reply was still streaming: the acceptance must show live.
        await page.EvaluateAsync("""
            () => {
              window.liveRows = [];
              new MutationObserver(() => window.liveRows.push([document.querySelector('#status').textContent,
                document.querySelector('#acceptance-note').textContent, document.querySelectorAll('#acceptance tbody tr').length]))
                .observe(document.querySelector('#acceptance tbody'), { childList: true });
            }
            """);
        await page.ClickAsync("#generate");
        await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync("done", new() { Timeout = 30_000 });

        Assert.Equal(await server.ExpectedReply(question, 24), await page.Locator("#output").InnerTextAsync());
        var classes = await page.Locator("#output span").EvaluateAllAsync<string[]>("spans => spans.map(s => s.className)");
        Assert.NotEmpty(classes);
        Assert.All(classes, c => Assert.Contains(c, new[] { "origin-accepted_draft", "origin-correction", "origin-bonus", "origin-target" }));
        Assert.Contains("origin-accepted_draft", classes);

        // The table ends with the server's exact counts: as many rows as draft positions, each accepted <= drafted.
        var rows = await page.Locator("#acceptance tbody tr").EvaluateAllAsync<string[][]>(
            "rows => rows.map(r => [...r.cells].slice(0, 4).map(c => c.textContent))");
        Assert.Equal(4, rows.Length);
        Assert.All(rows, r => Assert.InRange(int.Parse(r[1]), 0, int.Parse(r[2])));
        Assert.Contains("drafts accepted", await page.Locator("#summary").InnerTextAsync());
        var live = await page.EvaluateAsync<JsonElement>("() => window.liveRows");
        Assert.Contains(live.EnumerateArray(), m => m[0].GetString() == "generating" && m[1].GetString()!.StartsWith("Live") && m[2].GetInt32() > 0);
    }
}
