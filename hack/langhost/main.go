// pulumi-language-nodejs: a minimal Pulumi language host for Node.js programs.
//
// The upstream host lives in its own nested Go module
// (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3), which the
// Go module proxy reachable from this project's machines does not serve. This
// host implements the parts of the LanguageRuntime gRPC protocol that
// `pulumi preview/up/refresh/destroy` use, against the public protobuf API of
// github.com/pulumi/pulumi/sdk/v3:
//
//   - Run: starts `node [nodeargs] <node_modules/@pulumi/pulumi/cmd/run> --monitor ...
//     <program>`, the entry point that the @pulumi/pulumi npm package ships for this
//     purpose, passing configuration through PULUMI_CONFIG and
//     PULUMI_CONFIG_SECRET_KEYS and the TypeScript switches through
//     PULUMI_NODEJS_TYPESCRIPT / PULUMI_NODEJS_TSCONFIG_PATH.
//   - GetRequiredPackages / GetRequiredPlugins: lists the resource plugins named by
//     the `pulumi` section of package.json files under node_modules.
//   - RunPlugin, for policy packs only (`--policy-pack`): starts
//     node_modules/@pulumi/pulumi/cmd/run-policy-pack in the pack's folder.
//   - GetPluginInfo, About, GetProgramDependencies, InstallDependencies (npm/yarn/pnpm
//     install), RuntimeOptionsPrompts (none), Handshake.
//
// Everything else answers Unimplemented, which the engine treats as "not supported".
//
// Built by scripts/toolchain.sh from this folder's module as committed: go.mod
// and go.sum pin every dependency (to move to another SDK release:
// `go get github.com/pulumi/pulumi/sdk/v3@<version> && go mod tidy` here).
// The version it reports is set with -ldflags "-X main.version=<version>".
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

var version = "0.0.0-dev"

// Exit code that @pulumi/pulumi's cmd/run uses after it has already shown the user an error.
const exitCodeErrorAlreadyReported = 32

func main() {
	var engineAddress, tracing string
	args := os.Args[1:]
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--tracing" || a == "-tracing":
			if i+1 < len(args) {
				tracing = args[i+1]
				i++
			}
		case strings.HasPrefix(a, "--tracing=") || strings.HasPrefix(a, "-tracing="):
			tracing = a[strings.Index(a, "=")+1:]
		case a == "--root" || a == "-root" || a == "--binary" || a == "-binary":
			i++ // flags of the upstream host that take a value; ignored here
		case strings.HasPrefix(a, "-"):
			// --logtostderr, -v=N, and other flags: ignored
		default:
			engineAddress = a
		}
	}

	host := &nodeLanguageHost{engineAddress: engineAddress, tracing: tracing}
	// Exit when the engine is gone (a killed CLI), as the upstream host does:
	// its health is checked every 10 seconds.
	cancelChannel := make(chan bool)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-ctx.Done()
		close(cancelChannel)
	}()
	if engineAddress != "" {
		if err := rpcutil.Healthcheck(ctx, engineAddress, 10*time.Second, cancel); err != nil {
			fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: could not check the engine's health: %v\n", err)
			os.Exit(1)
		}
	}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancelChannel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: could not start the RPC server: %v\n", err)
		os.Exit(1)
	}
	// The engine reads the port from the first line of stdout.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: RPC server stopped: %v\n", err)
		os.Exit(1)
	}
}

type nodeLanguageHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	mu            sync.Mutex
	engineAddress string
	tracing       string
}

func (h *nodeLanguageHost) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *nodeLanguageHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// programDir returns the directory holding the program (and, normally, its node_modules).
func programDir(info *pulumirpc.ProgramInfo, fallback string) string {
	if info != nil && info.GetProgramDirectory() != "" {
		return info.GetProgramDirectory()
	}
	if fallback != "" {
		return fallback
	}
	wd, _ := os.Getwd()
	return wd
}

func rootDir(info *pulumirpc.ProgramInfo, fallback string) string {
	if info != nil && info.GetRootDirectory() != "" {
		return info.GetRootDirectory()
	}
	return programDir(info, fallback)
}

// option reads runtime.options.<key> from Pulumi.yaml, as passed in ProgramInfo.
func option(info *pulumirpc.ProgramInfo, key string) (interface{}, bool) {
	if info == nil || info.GetOptions() == nil {
		return nil, false
	}
	v, ok := info.GetOptions().AsMap()[key]
	return v, ok
}

// ---- plugins ----------------------------------------------------------------

type packageJSON struct {
	Name            string            `json:"name"`
	Version         string            `json:"version"`
	Main            string            `json:"main"`
	Dependencies    map[string]string `json:"dependencies"`
	DevDependencies map[string]string `json:"devDependencies"`
	PackageManager  string            `json:"packageManager"`
	Pulumi          struct {
		Resource         bool   `json:"resource"`
		Name             string `json:"name"`
		Version          string `json:"version"`
		Server           string `json:"server"`
		Parameterization *struct {
			Name    string `json:"name"`
			Version string `json:"version"`
			Value   string `json:"value"`
		} `json:"parameterization"`
	} `json:"pulumi"`
}

func readPackageJSON(path string) (*packageJSON, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p packageJSON
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	return &p, nil
}

func pluginName(p *packageJSON) string {
	if p.Pulumi.Name != "" {
		return p.Pulumi.Name
	}
	n := p.Name
	if strings.HasPrefix(n, "@pulumi/") {
		return strings.TrimPrefix(n, "@pulumi/")
	}
	return strings.TrimPrefix(n, "@")
}

func withV(v string) string {
	if v == "" || strings.HasPrefix(v, "v") {
		return v
	}
	return "v" + v
}

// nodeModulesDirs lists node_modules folders from dir up to (and including) stop.
func nodeModulesDirs(dir, stop string) []string {
	var out []string
	dir, _ = filepath.Abs(dir)
	stop, _ = filepath.Abs(stop)
	for {
		nm := filepath.Join(dir, "node_modules")
		if st, err := os.Stat(nm); err == nil && st.IsDir() {
			out = append(out, nm)
		}
		if dir == stop || !strings.HasPrefix(dir, stop) {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return out
}

// scanPackages calls fn for every package.json of a package inside nm (scoped
// packages included), descending into nested node_modules up to depth levels.
func scanPackages(nm string, depth int, fn func(pkgDir string, p *packageJSON)) {
	entries, err := os.ReadDir(nm)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		full := filepath.Join(nm, name)
		if st, err := os.Stat(full); err != nil || !st.IsDir() {
			continue
		}
		if strings.HasPrefix(name, "@") {
			scoped, _ := os.ReadDir(full)
			for _, s := range scoped {
				pkgDir := filepath.Join(full, s.Name())
				visitPackage(pkgDir, depth, fn)
			}
			continue
		}
		visitPackage(full, depth, fn)
	}
}

func visitPackage(pkgDir string, depth int, fn func(string, *packageJSON)) {
	if p, err := readPackageJSON(filepath.Join(pkgDir, "package.json")); err == nil {
		fn(pkgDir, p)
	}
	if depth > 0 {
		nested := filepath.Join(pkgDir, "node_modules")
		if st, err := os.Stat(nested); err == nil && st.IsDir() {
			scanPackages(nested, depth-1, fn)
		}
	}
}

func (h *nodeLanguageHost) requiredPackages(info *pulumirpc.ProgramInfo, pwd string) ([]*pulumirpc.PackageDependency, error) {
	seen := map[string]bool{}
	var deps []*pulumirpc.PackageDependency
	for _, nm := range nodeModulesDirs(programDir(info, pwd), rootDir(info, pwd)) {
		scanPackages(nm, 3, func(_ string, p *packageJSON) {
			if !p.Pulumi.Resource {
				return
			}
			v := p.Pulumi.Version
			if v == "" {
				v = p.Version
			}
			dep := &pulumirpc.PackageDependency{
				Name:    pluginName(p),
				Kind:    "resource",
				Version: withV(v),
				Server:  p.Pulumi.Server,
			}
			if pz := p.Pulumi.Parameterization; pz != nil {
				value, err := base64.StdEncoding.DecodeString(pz.Value)
				if err == nil {
					dep.Parameterization = &pulumirpc.PackageParameterization{
						Name: pz.Name, Version: strings.TrimPrefix(pz.Version, "v"), Value: value,
					}
				}
			}
			key := dep.Name + "@" + dep.Version
			if dep.Parameterization != nil {
				key += "/" + dep.Parameterization.Name + "@" + dep.Parameterization.Version
			}
			if !seen[key] {
				seen[key] = true
				deps = append(deps, dep)
			}
		})
	}
	sort.Slice(deps, func(i, j int) bool { return deps[i].Name+deps[i].Version < deps[j].Name+deps[j].Version })
	return deps, nil
}

func (h *nodeLanguageHost) GetRequiredPackages(
	_ context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	deps, err := h.requiredPackages(req.GetInfo(), "")
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: deps}, nil
}

//nolint:staticcheck // deprecated RPC, still called by older engines
func (h *nodeLanguageHost) GetRequiredPlugins(
	_ context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	deps, err := h.requiredPackages(req.GetInfo(), req.GetPwd())
	if err != nil {
		return nil, err
	}
	var plugins []*pulumirpc.PluginDependency
	for _, d := range deps {
		if d.Parameterization != nil {
			continue
		}
		plugins = append(plugins, &pulumirpc.PluginDependency{
			Name: d.Name, Kind: d.Kind, Version: d.Version, Server: d.Server,
		})
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

// ---- run --------------------------------------------------------------------

// findRunScript locates @pulumi/pulumi/cmd/run from dir upwards.
func findRunScript(dir string) (string, error) {
	if p := os.Getenv("PULUMI_LANGUAGE_NODEJS_RUN_PATH"); p != "" {
		return p, nil
	}
	return findCmdScript(dir, "run")
}

// findCmdScript finds node_modules/@pulumi/pulumi/cmd/<name> in dir or above it,
// as Node's own module resolution would.
func findCmdScript(dir, name string) (string, error) {
	dir, _ = filepath.Abs(dir)
	for {
		cand := filepath.Join(dir, "node_modules", "@pulumi", "pulumi", "cmd", name)
		if _, err := os.Stat(filepath.Join(cand, "index.js")); err == nil {
			return cand, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", fmt.Errorf("it looks like the Pulumi SDK has not been installed "+
		"(no node_modules/@pulumi/pulumi/cmd/%s found); have you run npm install?", name)
}

// RunPlugin runs a policy pack (kind "analyzer": a folder with
// PulumiPolicy.yaml, e.g. `pulumi preview --policy-pack policy`) with
// @pulumi/pulumi's cmd/run-policy-pack, in the pack's folder, with the
// engine's address as its argument. Its stdout and stderr stream back to the
// engine (which reads the pack's port from the first line), then its exit
// code. Other kinds of Node.js plugins answer Unimplemented.
func (h *nodeLanguageHost) RunPlugin(
	req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer,
) error {
	if req.GetKind() != "analyzer" {
		return status.Errorf(codes.Unimplemented, "RunPlugin: only policy packs (analyzer) are supported, not %q", req.GetKind())
	}
	info := req.GetInfo()
	pdir := programDir(info, req.GetPwd())
	runPath, err := findCmdScript(pdir, "run-policy-pack")
	if err != nil {
		return err
	}
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return fmt.Errorf("could not find node on the $PATH: %w", err)
	}
	var args []string
	if na := stringOption(info, "nodeargs"); na != "" {
		args = append(args, strings.Fields(na)...)
	}
	entry := "."
	if info != nil && info.GetEntryPoint() != "" {
		entry = info.GetEntryPoint()
	}
	// run-policy-pack <engine address> <program>
	args = append(append(append(args, runPath), req.GetArgs()...), entry)

	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()

	cmd := exec.Command(nodeBin, args...)
	cmd.Dir = pdir
	cmd.Env = append(append([]string{}, req.GetEnv()...),
		fmt.Sprintf("PULUMI_NODEJS_TYPESCRIPT=%t", boolOption(info, "typescript", true)))
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	code := 0
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return fmt.Errorf("running the policy pack: %w", err)
		}
		code = exitErr.ExitCode()
	}
	if err := closer.Close(); err != nil {
		return err
	}
	return server.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)}})
}

func boolOption(info *pulumirpc.ProgramInfo, key string, def bool) bool {
	v, ok := option(info, key)
	if !ok {
		return def
	}
	switch t := v.(type) {
	case bool:
		return t
	case string:
		return t == "true"
	}
	return def
}

func stringOption(info *pulumirpc.ProgramInfo, key string) string {
	if v, ok := option(info, key); ok {
		if s, ok := v.(string); ok {
			return s
		}
	}
	return ""
}

func (h *nodeLanguageHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	pdir := programDir(info, req.GetPwd())
	runPath, err := findRunScript(pdir)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return &pulumirpc.RunResponse{Error: "could not find node on the $PATH: " + err.Error()}, nil
	}

	h.mu.Lock()
	engine, tracing := h.engineAddress, h.tracing
	h.mu.Unlock()

	var args []string
	if na := stringOption(info, "nodeargs"); na != "" {
		args = append(args, strings.Fields(na)...)
	}
	args = append(args, runPath)
	add := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k, v)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", engine)
	add("organization", req.GetOrganization())
	add("project", req.GetProject())
	add("stack", req.GetStack())
	add("pwd", req.GetPwd())
	add("root-directory", rootDir(info, req.GetPwd()))
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	if req.GetParallel() != 0 {
		add("parallel", fmt.Sprint(req.GetParallel()))
	}
	add("tracing", tracing)
	entry := "."
	if info != nil && info.GetEntryPoint() != "" {
		entry = info.GetEntryPoint()
	} else if req.GetProgram() != "" { //nolint:staticcheck
		entry = req.GetProgram() //nolint:staticcheck
	}
	args = append(args, entry)
	args = append(args, req.GetArgs()...)

	config := req.GetConfig()
	if config == nil {
		config = map[string]string{}
	}
	configJSON, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}

	env := os.Environ()
	env = append(env,
		"PULUMI_CONFIG="+string(configJSON),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretJSON),
		fmt.Sprintf("PULUMI_NODEJS_TYPESCRIPT=%t", boolOption(info, "typescript", true)),
	)
	if ts := stringOption(info, "tsconfig"); ts != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+ts)
	}

	cmd := exec.CommandContext(ctx, nodeBin, args...)
	cmd.Dir = pdir
	cmd.Env = env
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if exitErr.ExitCode() == exitCodeErrorAlreadyReported {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
			}, nil
		}
		return &pulumirpc.RunResponse{
			Error: "Problem executing program (could not run language executor): " + err.Error(),
		}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// ---- tooling ----------------------------------------------------------------

func nodeVersion() (string, string) {
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return "", ""
	}
	out, err := exec.Command(nodeBin, "--version").Output()
	if err != nil {
		return nodeBin, ""
	}
	return nodeBin, strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
}

func (h *nodeLanguageHost) About(context.Context, *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	bin, ver := nodeVersion()
	return &pulumirpc.AboutResponse{Executable: bin, Version: ver}, nil
}

func (h *nodeLanguageHost) GetProgramDependencies(
	_ context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	pdir := programDir(req.GetInfo(), req.GetPwd()) //nolint:staticcheck
	root, err := readPackageJSON(filepath.Join(pdir, "package.json"))
	if err != nil {
		return nil, status.Errorf(codes.FailedPrecondition, "reading package.json: %v", err)
	}
	names := map[string]bool{}
	for n := range root.Dependencies {
		names[n] = true
	}
	for n := range root.DevDependencies {
		names[n] = true
	}
	var deps []*pulumirpc.DependencyInfo
	for n := range names {
		v := root.Dependencies[n]
		if v == "" {
			v = root.DevDependencies[n]
		}
		for _, nm := range nodeModulesDirs(pdir, rootDir(req.GetInfo(), pdir)) {
			if p, err := readPackageJSON(filepath.Join(nm, n, "package.json")); err == nil {
				v = p.Version
				break
			}
		}
		deps = append(deps, &pulumirpc.DependencyInfo{Name: n, Version: v})
	}
	sort.Slice(deps, func(i, j int) bool { return deps[i].Name < deps[j].Name })
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}

func (h *nodeLanguageHost) RuntimeOptionsPrompts(
	context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

// packageManagerCommand picks npm, yarn or pnpm like the upstream host does:
// runtime.options.packagemanager, else the lock file present, else npm.
func packageManagerCommand(info *pulumirpc.ProgramInfo, dir string) []string {
	pm := stringOption(info, "packagemanager")
	if pm == "" {
		switch {
		case fileExists(filepath.Join(dir, "yarn.lock")):
			pm = "yarn"
		case fileExists(filepath.Join(dir, "pnpm-lock.yaml")):
			pm = "pnpm"
		default:
			pm = "npm"
		}
	}
	switch pm {
	case "yarn":
		return []string{"yarn", "install"}
	case "pnpm":
		return []string{"pnpm", "install"}
	default:
		return []string{"npm", "install", "--loglevel=error"}
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

type streamWriter struct {
	send func([]byte) error
}

func (w streamWriter) Write(b []byte) (int, error) {
	c := make([]byte, len(b))
	copy(c, b)
	if err := w.send(c); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (h *nodeLanguageHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest,
	srv grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	dir := req.GetDirectory() //nolint:staticcheck
	if req.GetInfo() != nil && req.GetInfo().GetProgramDirectory() != "" {
		dir = req.GetInfo().GetProgramDirectory()
	}
	argv := packageManagerCommand(req.GetInfo(), dir)
	var mu sync.Mutex
	send := func(out, errOut []byte) error {
		mu.Lock()
		defer mu.Unlock()
		return srv.Send(&pulumirpc.InstallDependenciesResponse{Stdout: out, Stderr: errOut})
	}
	_ = send([]byte(fmt.Sprintf("Installing dependencies with %s...\n", strings.Join(argv, " "))), nil)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Stdout = streamWriter{send: func(b []byte) error { return send(b, nil) }}
	cmd.Stderr = streamWriter{send: func(b []byte) error { return send(nil, b) }}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s failed: %w", strings.Join(argv, " "), err)
	}
	return send([]byte("Finished installing dependencies\n"), nil)
}
