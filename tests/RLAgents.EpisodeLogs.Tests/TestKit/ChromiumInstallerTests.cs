namespace RLAgents.EpisodeLogs.Tests;

/// <summary>
/// The browser tests' set-up on a fresh machine, with a fake apt-get and an empty PATH folder standing in
/// for a machine without Chromium (the real one stays installed).
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ChromiumInstallerTests : IDisposable
{
    private readonly TempDirectory _root = new();
    private readonly string _bin, _aptGet, _aptLog;

    public ChromiumInstallerTests()
    {
        _bin = _root.CreateDirectory("bin");
        _aptGet = _root.Combine("apt-get");
        _aptLog = _root.Combine("apt.log");
    }

    public void Dispose() => _root.Dispose();

    // A fake apt-get: logs its arguments; `install ... chromium` puts an executable `chromium` into bin/ (or fails with exitCode).
    private void FakeAptGet(int exitCode = 0)
    {
        File.WriteAllText(_aptGet, $$"""
            #!/bin/sh
            echo "$DEBIAN_FRONTEND $*" >> '{{_aptLog}}'
            if [ "$1" = install ]; then
              [ {{exitCode}} -ne 0 ] && { echo 'E: Unable to locate package chromium' >&2; exit {{exitCode}}; }
              printf '#!/bin/sh\n' > '{{_bin}}/chromium' && chmod +x '{{_bin}}/chromium'
            fi
            exit 0
            """.Replace("\r", ""));
        File.SetUnixFileMode(_aptGet, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private ChromiumInstaller Installer(bool root) => new([_bin], root, File.Exists(_aptGet) ? _aptGet : null, _root.Combine("install.lock"));

    [Fact]
    public void AMissingChromiumIsInstalledWithAptGetWhenRunningAsRoot()
    {
        FakeAptGet();
        Assert.Null(Installer(root: true).Find());
        string path = Installer(root: true).Ensure();
        Assert.Equal(Path.Combine(_bin, "chromium"), path);
        Assert.Equal(["noninteractive update -qq", "noninteractive install -y -qq chromium"], File.ReadAllLines(_aptLog));
    }

    [Fact]
    public void AnInstalledChromiumIsFoundWithoutRunningAptGet()
    {
        FakeAptGet();
        File.WriteAllText(Path.Combine(_bin, "chromium-browser"), "");
        Assert.Equal(Path.Combine(_bin, "chromium-browser"), Installer(root: true).Ensure());
        Assert.False(File.Exists(_aptLog));
    }

    [Fact]
    public void WithoutRootTheFailureSaysWhichCommandInstallsIt()
    {
        FakeAptGet();
        var e = Assert.Throws<InvalidOperationException>(() => Installer(root: false).Ensure());
        Assert.Contains("apt-get install -y chromium", e.Message);
        Assert.False(File.Exists(_aptLog));
    }

    [Fact]
    public void AFailedInstallReportsAptGetsExitCodeAndLastError()
    {
        FakeAptGet(exitCode: 100);
        var e = Assert.Throws<InvalidOperationException>(() => Installer(root: true).Ensure());
        Assert.Contains("exited with 100: E: Unable to locate package chromium", e.Message);
    }

    [Fact]
    public void WithoutAptGetTheFailureSaysSo()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Installer(root: true).Ensure());
        Assert.Contains("no apt-get on PATH", e.Message);
    }

    [Fact]
    public void ThisMachineHasChromiumForTheBrowserTests()
    {
        // The browser tests' own path: finds (or on a fresh machine installs) the real Chromium.
        string path = Chromium.Executable();
        Assert.True(File.Exists(path), path);
        Assert.Contains(Path.GetFileName(path), ChromiumInstaller.Names);
    }
}
