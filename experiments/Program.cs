Console.WriteLine("rlagents: under construction");
return 0;
