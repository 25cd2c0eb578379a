return DistillSpec.Cli.Cli.Run(args, Console.Out, Console.Error);
