# Summary of scripts/race-official.sh OUT_DIR: reconstruction, process wall and CPU, peak RSS, top-1, hash, load per run.
import json,re,sys,glob,os
d=sys.argv[1]
def tv(f):
    t=open(f).read()
    w=re.search(r'Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)',t).group(1)
    p=w.split(':'); wall=float(p[-1])+60*float(p[-2])+(3600*float(p[-3]) if len(p)>2 else 0)
    u=float(re.search(r'User time \(seconds\): (\S+)',t).group(1)); s=float(re.search(r'System time \(seconds\): (\S+)',t).group(1))
    rss=int(re.search(r'Maximum resident set size \(kbytes\): (\d+)',t).group(1))
    return wall,u+s,rss
for f in sorted(glob.glob(d+'/*.log')):
    n=os.path.basename(f)[:-4]
    try: wall,cpu,rss=tv(f)
    except Exception as e: print(n,'incomplete'); continue
    up=open(d+'/'+n+'.uptime').read().split('load average:')[-1].strip()
    if n.startswith('o-'):
        j=json.load(open(d+'/'+n+'.json'))
        cal=j.get('calib_seconds',0)+j.get('weight_init_seconds',0)+j.get('act_init_seconds',0)
        print(f"{n}: recon {j['recon_seconds']:.1f}s calib {j.get('calib_seconds',0):.1f}s process {j.get('process_seconds',0):.1f}s wall {wall:.1f}s cpu {cpu:.1f}s rss {rss/1e6:.2f}GB top1 {j.get('full_top1')} load {up}")
    else:
        t=open(f).read()
        units=[float(x) for x in re.findall(r'^\s+\S+\s+(?:joint|weights|activations|act|weight)\s+loss .*\((\d+\.\d+)s\)',t,re.M)]
        j=json.load(open(d+'/'+n+'/result.json'))
        print(f"{n}: recon {sum(units):.1f}s ({len(units)} unit phases) wall {wall:.1f}s cpu {cpu:.1f}s rss {rss/1e6:.2f}GB top1 {j['top1']} sha {j['quantized_sha256'][:8]} load {up}")
