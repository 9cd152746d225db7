//! Geospatial commands (GEOADD GEODIST GEOHASH GEOPOS GEORADIUS[_RO]
//! GEORADIUSBYMEMBER[_RO] GEOSEARCH GEOSEARCHSTORE) diffed byte for byte
//! against redis-server: a script of every option and error in three
//! layouts and RESP3 (stores to keys on other shards), then seeded random
//! points and searches, unsorted results included (the order of Redis's
//! box scan).

mod common;
use common::*;

const SCRIPT: &[&[&str]] = &[
    &[
        "GEOADD",
        "Sicily",
        "13.361389",
        "38.115556",
        "Palermo",
        "15.087269",
        "37.502669",
        "Catania",
    ],
    &["GEOADD", "Sicily", "13.361389", "38.115556", "Palermo"],
    &[
        "GEOADD",
        "Sicily",
        "CH",
        "13.5",
        "38.1",
        "Palermo",
        "14.0",
        "37.0",
        "Agrigento",
    ],
    &[
        "GEOADD", "Sicily", "NX", "1", "1", "Palermo", "12.5", "37.8", "Marsala",
    ],
    &[
        "GEOADD",
        "Sicily",
        "XX",
        "CH",
        "13.361389",
        "38.115556",
        "Palermo",
        "1",
        "1",
        "Nowhere",
    ],
    &["GEOADD", "Sicily", "NX", "XX", "1", "1", "x"],
    &["GEOADD", "Sicily", "1", "1"],
    &["GEOADD", "Sicily", "GT", "1", "1", "x"],
    &["GEOADD", "Sicily", "200", "10", "x"],
    &["GEOADD", "Sicily", "10", "86", "x"],
    &["GEOADD", "Sicily", "abc", "10", "x"],
    &["GEOADD", "Sicily", "10", "nan", "x"],
    &["ZRANGE", "Sicily", "0", "-1", "WITHSCORES"],
    &["GEODIST", "Sicily", "Palermo", "Catania"],
    &["GEODIST", "Sicily", "Palermo", "Catania", "km"],
    &["GEODIST", "Sicily", "Palermo", "Catania", "MI"],
    &["GEODIST", "Sicily", "Palermo", "Catania", "ft"],
    &["GEODIST", "Sicily", "Palermo", "Catania", "yd"],
    &["GEODIST", "Sicily", "Palermo", "Catania", "km", "x"],
    &["GEODIST", "Sicily", "Palermo", "Nope"],
    &["GEODIST", "Sicily", "Palermo", "Palermo"],
    &["GEODIST", "missing", "a", "b"],
    &["GEOHASH", "Sicily", "Palermo", "Catania", "Nope"],
    &["GEOHASH", "missing", "a"],
    &["GEOHASH", "Sicily"],
    &["GEOPOS", "Sicily", "Palermo", "Catania", "Nope"],
    &["GEOPOS", "missing", "a", "b"],
    &["GEOPOS", "Sicily"],
    &["GEORADIUS", "Sicily", "15", "37", "200", "km"],
    &["GEORADIUS", "Sicily", "15", "37", "200", "km", "ASC"],
    &["GEORADIUS", "Sicily", "15", "37", "200", "km", "DESC"],
    &[
        "GEORADIUS",
        "Sicily",
        "15",
        "37",
        "200",
        "km",
        "WITHDIST",
        "WITHCOORD",
        "WITHHASH",
    ],
    &[
        "GEORADIUS",
        "Sicily",
        "15",
        "37",
        "200",
        "km",
        "WITHHASH",
        "COUNT",
        "1",
    ],
    &[
        "GEORADIUS",
        "Sicily",
        "15",
        "37",
        "200",
        "km",
        "COUNT",
        "2",
        "ANY",
    ],
    &["GEORADIUS", "Sicily", "15", "37", "200", "km", "ANY"],
    &["GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "0"],
    &["GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "x"],
    &["GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT"],
    &["GEORADIUS", "Sicily", "15", "37", "-1", "km"],
    &["GEORADIUS", "Sicily", "15", "37", "x", "km"],
    &["GEORADIUS", "Sicily", "15", "37", "1", "yards"],
    &["GEORADIUS", "Sicily", "15", "37", "0", "m"],
    &["GEORADIUS", "Sicily", "181", "37", "1", "m"],
    &["GEORADIUS", "Sicily", "15", "37", "200", "km", "BYBOX"],
    &[
        "GEORADIUS",
        "Sicily",
        "15",
        "37",
        "200",
        "km",
        "STORE",
        "{t}dst",
    ],
    &["ZRANGE", "{t}dst", "0", "-1", "WITHSCORES"],
    &[
        "GEORADIUS",
        "Sicily",
        "15",
        "37",
        "200",
        "km",
        "STOREDIST",
        "other",
    ],
    &["ZRANGE", "other", "0", "-1", "WITHSCORES"],
    &[
        "GEORADIUS",
        "Sicily",
        "15",
        "37",
        "200",
        "km",
        "STORE",
        "a",
        "STOREDIST",
        "b",
    ],
    &["ZRANGE", "b", "0", "-1", "WITHSCORES"],
    &["EXISTS", "a"],
    &[
        "GEORADIUS",
        "Sicily",
        "15",
        "37",
        "200",
        "km",
        "STORE",
        "a",
        "WITHDIST",
    ],
    &["GEORADIUS", "Sicily", "0", "0", "1", "km", "STORE", "other"],
    &["EXISTS", "other"],
    &[
        "GEORADIUS",
        "missing",
        "15",
        "37",
        "200",
        "km",
        "STORE",
        "b",
    ],
    &["EXISTS", "b"],
    &["GEORADIUS", "missing", "15", "37", "200", "km"],
    &[
        "GEORADIUS_RO",
        "Sicily",
        "15",
        "37",
        "200",
        "km",
        "WITHDIST",
    ],
    &[
        "GEORADIUS_RO",
        "Sicily",
        "15",
        "37",
        "200",
        "km",
        "STORE",
        "x",
    ],
    &["GEORADIUSBYMEMBER", "Sicily", "Palermo", "100", "km"],
    &[
        "GEORADIUSBYMEMBER",
        "Sicily",
        "Palermo",
        "300",
        "km",
        "WITHDIST",
        "ASC",
    ],
    &["GEORADIUSBYMEMBER", "Sicily", "Nope", "100", "km"],
    &["GEORADIUSBYMEMBER", "missing", "Nope", "x", "km"],
    &[
        "GEORADIUSBYMEMBER",
        "Sicily",
        "Palermo",
        "300",
        "km",
        "STORE",
        "{t}dst2",
    ],
    &[
        "GEORADIUSBYMEMBER_RO",
        "Sicily",
        "Palermo",
        "300",
        "km",
        "COUNT",
        "2",
        "DESC",
    ],
    &[
        "GEOSEARCH",
        "Sicily",
        "FROMLONLAT",
        "15",
        "37",
        "BYRADIUS",
        "200",
        "km",
        "ASC",
    ],
    &[
        "GEOSEARCH",
        "Sicily",
        "FROMLONLAT",
        "15",
        "37",
        "BYBOX",
        "400",
        "400",
        "km",
        "ASC",
        "WITHCOORD",
        "WITHDIST",
    ],
    &[
        "GEOSEARCH",
        "Sicily",
        "FROMMEMBER",
        "Palermo",
        "BYBOX",
        "200",
        "100",
        "km",
        "WITHHASH",
    ],
    &[
        "GEOSEARCH",
        "Sicily",
        "FROMMEMBER",
        "Palermo",
        "BYRADIUS",
        "1000",
        "mi",
        "DESC",
        "COUNT",
        "3",
    ],
    &[
        "GEOSEARCH",
        "Sicily",
        "FROMMEMBER",
        "Nope",
        "BYRADIUS",
        "10",
        "km",
    ],
    &["GEOSEARCH", "Sicily", "BYRADIUS", "10", "km"],
    &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37"],
    &[
        "GEOSEARCH",
        "Sicily",
        "FROMLONLAT",
        "15",
        "37",
        "FROMMEMBER",
        "Palermo",
        "BYRADIUS",
        "10",
        "km",
    ],
    &[
        "GEOSEARCH",
        "Sicily",
        "FROMLONLAT",
        "15",
        "37",
        "BYRADIUS",
        "10",
        "km",
        "BYBOX",
        "1",
        "1",
        "km",
    ],
    &[
        "GEOSEARCH",
        "Sicily",
        "FROMLONLAT",
        "15",
        "37",
        "BYBOX",
        "-1",
        "1",
        "km",
    ],
    &[
        "GEOSEARCH",
        "Sicily",
        "FROMLONLAT",
        "15",
        "37",
        "BYBOX",
        "x",
        "1",
        "km",
    ],
    &[
        "GEOSEARCH",
        "Sicily",
        "FROMLONLAT",
        "15",
        "37",
        "BYBOX",
        "1",
        "y",
        "km",
    ],
    &[
        "GEOSEARCH",
        "Sicily",
        "FROMLONLAT",
        "15",
        "37",
        "BYRADIUS",
        "10",
        "km",
        "STORE",
        "x",
    ],
    &[
        "GEOSEARCH",
        "Sicily",
        "FROMLONLAT",
        "15",
        "37",
        "BYRADIUS",
        "10",
        "km",
        "ANY",
    ],
    &["geosearch", "Sicily", "BYRADIUS", "10", "km"],
    &[
        "GEOSEARCH",
        "missing",
        "FROMMEMBER",
        "x",
        "BYRADIUS",
        "10",
        "km",
    ],
    &[
        "GEOSEARCHSTORE",
        "{t}out",
        "Sicily",
        "FROMLONLAT",
        "15",
        "37",
        "BYRADIUS",
        "200",
        "km",
    ],
    &["ZRANGE", "{t}out", "0", "-1", "WITHSCORES"],
    &[
        "GEOSEARCHSTORE",
        "far",
        "Sicily",
        "FROMLONLAT",
        "15",
        "37",
        "BYBOX",
        "400",
        "400",
        "km",
        "STOREDIST",
        "DESC",
        "COUNT",
        "2",
    ],
    &["ZRANGE", "far", "0", "-1", "WITHSCORES"],
    &[
        "GEOSEARCHSTORE",
        "far",
        "Sicily",
        "FROMLONLAT",
        "15",
        "37",
        "BYRADIUS",
        "1",
        "m",
    ],
    &["EXISTS", "far"],
    &[
        "GEOSEARCHSTORE",
        "far",
        "Sicily",
        "FROMLONLAT",
        "15",
        "37",
        "BYRADIUS",
        "1",
        "km",
        "WITHDIST",
    ],
    &[
        "GEOSEARCHSTORE",
        "far",
        "Sicily",
        "FROMLONLAT",
        "15",
        "37",
        "BYRADIUS",
        "1",
        "km",
        "STORE",
        "x",
    ],
    &[
        "GEOSEARCHSTORE",
        "far",
        "missing",
        "FROMLONLAT",
        "15",
        "37",
        "BYRADIUS",
        "1",
        "km",
    ],
    // Edges: poles of the Mercator range, the antimeridian, huge radii.
    &[
        "GEOADD",
        "edge",
        "179.9999",
        "85.05",
        "ne",
        "-179.9999",
        "85.05",
        "nw",
        "179.9999",
        "-85.05",
        "se",
        "-180",
        "-85.05112878",
        "sw",
        "0",
        "0",
        "origin",
        "180",
        "0",
        "dateline",
    ],
    &[
        "GEORADIUS",
        "edge",
        "0",
        "0",
        "20000",
        "km",
        "ASC",
        "WITHDIST",
    ],
    &["GEORADIUS", "edge", "180", "85", "500", "km", "WITHCOORD"],
    &[
        "GEOSEARCH",
        "edge",
        "FROMLONLAT",
        "-179.9",
        "0",
        "BYBOX",
        "50000",
        "200",
        "km",
        "WITHDIST",
        "ASC",
    ],
    &[
        "GEOPOS", "edge", "ne", "nw", "se", "sw", "origin", "dateline",
    ],
    &[
        "GEOHASH", "edge", "ne", "nw", "se", "sw", "origin", "dateline",
    ],
    &["SET", "str", "x"],
    &["GEOADD", "str", "1", "1", "x"],
    &["GEOPOS", "str", "x"],
    &["GEORADIUS", "str", "1", "1", "1", "km"],
    &[
        "GEOSEARCH",
        "str",
        "FROMLONLAT",
        "1",
        "1",
        "BYRADIUS",
        "1",
        "km",
    ],
    &["GEODIST", "str", "a", "b"],
];

#[test]
fn replies_match_redis_byte_for_byte() {
    let shards: std::collections::HashSet<usize> = ["Sicily", "other", "far", "b"]
        .iter()
        .map(|k| tandem::spec::key_shard(k.as_bytes(), 3))
        .collect();
    assert!(shards.len() >= 2, "stores cross shards: {shards:?}");
    for layout in LAYOUTS {
        let s = Server::start(layout);
        let redis = Redis::start(&[]);
        let (mut ours, mut theirs) = (s.raw(), redis.raw());
        for cmd in SCRIPT {
            both(&mut ours, &mut theirs, cmd, &format!("{layout:?}"));
        }
        hello3(&mut ours, &mut theirs);
        for cmd in [
            &["GEOPOS", "Sicily", "Palermo", "Nope"][..],
            &["GEODIST", "Sicily", "Palermo", "Catania"],
            &["GEODIST", "Sicily", "Palermo", "Nope"],
            &["GEOHASH", "Sicily", "Nope"],
            &[
                "GEOSEARCH",
                "Sicily",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "200",
                "km",
                "WITHCOORD",
                "WITHDIST",
                "WITHHASH",
            ],
        ] {
            both(&mut ours, &mut theirs, cmd, &format!("{layout:?} resp3"));
        }
        s.assert_alive();
    }
}

#[test]
fn random_points_and_searches_match_redis() {
    let s = Server::start(LAYOUTS[1]);
    let redis = Redis::start(&[]);
    let (mut ours, mut theirs) = (s.raw(), redis.raw());
    let mut rng = Rng(0x5851_f42d_4c95_7f2d);
    // Two clusters and a scatter over the whole map: 600 points, sent in
    // batches of 50.
    let mut members = Vec::new();
    for batch in 0..12 {
        let mut cmd: Vec<String> = vec!["GEOADD".into(), "pts".into()];
        for _ in 0..50 {
            let (lon, lat) = match batch % 3 {
                0 => (rng.float(2.0, 2.6), rng.float(48.6, 49.1)),
                1 => (rng.float(-74.3, -73.7), rng.float(40.5, 40.95)),
                _ => (rng.float(-180.0, 180.0), rng.float(-85.0, 85.0)),
            };
            let m = format!("p{}", members.len());
            cmd.extend([format!("{lon:.6}"), format!("{lat:.6}"), m.clone()]);
            members.push(m);
        }
        let refs: Vec<&str> = cmd.iter().map(String::as_str).collect();
        both(&mut ours, &mut theirs, &refs, "add");
    }
    let centres = [
        (2.35, 48.85),
        (-74.0, 40.7),
        (0.0, 0.0),
        (179.5, 60.0),
        (-120.0, -45.0),
    ];
    let units = ["m", "km", "mi", "ft"];
    let mut nonempty = 0;
    for i in 0..300 {
        let (cx, cy) = centres[i % centres.len()];
        let (cx, cy) = (cx + rng.float(-0.5, 0.5), cy + rng.float(-0.5, 0.5));
        let unit = units[(rng.next() % 4) as usize];
        let scale = match unit {
            "m" => 1000.0,
            "ft" => 3280.0,
            _ => 1.0,
        };
        let size = [0.5, 5.0, 40.0, 300.0, 3000.0][(rng.next() % 5) as usize] * scale;
        let mut cmd: Vec<String> = match rng.next() % 3 {
            0 => vec![
                "GEORADIUS".into(),
                "pts".into(),
                format!("{cx:.5}"),
                format!("{cy:.5}"),
                format!("{size}"),
                unit.into(),
            ],
            1 => {
                let m = &members[(rng.next() % members.len() as u64) as usize];
                vec![
                    "GEOSEARCH".into(),
                    "pts".into(),
                    "FROMMEMBER".into(),
                    m.clone(),
                    "BYBOX".into(),
                    format!("{size}"),
                    format!("{}", size / 2.0),
                    unit.into(),
                ]
            }
            _ => vec![
                "GEOSEARCH".into(),
                "pts".into(),
                "FROMLONLAT".into(),
                format!("{cx:.5}"),
                format!("{cy:.5}"),
                "BYRADIUS".into(),
                format!("{size}"),
                unit.into(),
            ],
        };
        match rng.next() % 4 {
            0 => cmd.push("ASC".into()),
            1 => cmd.push("DESC".into()),
            2 => cmd.extend(["COUNT".into(), "5".into()]),
            _ => {}
        }
        if rng.next() % 2 == 0 {
            cmd.extend(["WITHDIST".into(), "WITHCOORD".into()]);
        }
        let refs: Vec<&str> = cmd.iter().map(String::as_str).collect();
        let r = both(&mut ours, &mut theirs, &refs, &format!("search {i}"));
        nonempty += (r != "*0\r\n") as usize;
    }
    assert!(nonempty > 100, "searches found points: {nonempty}");
    // Every point's position, hash and distance to the first.
    for chunk in members.chunks(100) {
        for cmd in ["GEOPOS", "GEOHASH"] {
            let mut c = vec![cmd, "pts"];
            c.extend(chunk.iter().map(String::as_str));
            both(&mut ours, &mut theirs, &c, cmd);
        }
        for m in chunk.iter().take(20) {
            both(
                &mut ours,
                &mut theirs,
                &["GEODIST", "pts", "p0", m, "km"],
                "dist",
            );
        }
    }
    s.assert_alive();
}
