using System.CommandLine;
using DistillSpec.Cli;

var root = new RootCommand("DistillSpec engine: local generation and speculative decoding with distilled drafts")
{
    GenerateCommand.Create(),
    InitRandomCommand.Create(),
};
return root.Parse(args).Invoke();
