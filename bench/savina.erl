#!/usr/bin/env escript
%% -*- erlang -*-
%%! +P 4194304
%% (+P: room for the million scenario's processes; the VM's default limit is 262,144.)
%%
%% The Savina shapes of scenarios/savina.ts in Erlang, for reading our figures
%% against BEAM processes on the same machine in the same run:
%%
%%   escript bench/savina.erl PingPongN RingProcesses RingHops CountingN ForkJoinN
%%
%% Prints one JSON line: per shape the count (round trips, hops, messages,
%% processes) and the nanoseconds it took, timed inside the VM with
%% erlang:monotonic_time, so that the VM's start-up is left out.

%% Compiled, not interpreted (escript's default): the figures are the JIT's.
-mode(compile).

main([PingPongN, RingProcesses, RingHops, CountingN, ForkJoinN]) ->
    [P, R, H, C, F] = [list_to_integer(A) || A <- [PingPongN, RingProcesses, RingHops, CountingN, ForkJoinN]],
    Figures = [{"ping-pong", P, timed(fun() -> ping_pong(P) end)},
               {"thread-ring", H, timed(fun() -> thread_ring(R, H) end)},
               {"counting", C, timed(fun() -> counting(C) end)},
               {"fork-join", F, timed(fun() -> fork_join(F) end)}],
    Fields = [io_lib:format("\"~s\":{\"count\":~b,\"ns\":~b}", [Name, Count, Ns]) || {Name, Count, Ns} <- Figures],
    io:format("{\"otp\":\"~s\",~s}~n", [erlang:system_info(otp_release), lists:join(",", Fields)]);
main(["million", N]) ->
    million(list_to_integer(N));
main(_) ->
    io:format(standard_error, "usage: escript savina.erl PingPongN RingProcesses RingHops CountingN ForkJoinN~n"
                              "       escript savina.erl million N~n", []),
    halt(2).

%% A million live processes (the bench's million scenario): N spawned, each
%% waiting in receive; then a ping to each, answered; then each ended. Prints
%% each phase's nanoseconds and the process memory per process (the VM's own
%% count, erlang:memory(processes), before and after the spawns).
million(N) ->
    Caller = self(),
    erlang:garbage_collect(),
    Before = erlang:memory(processes),
    Start = erlang:monotonic_time(nanosecond),
    Pids = [spawn(fun() -> resident(Caller) end) || _ <- lists:seq(1, N)],
    Spawned = erlang:monotonic_time(nanosecond),
    After = erlang:memory(processes),
    [Pid ! ping || Pid <- Pids],
    ok = await_pongs(N),
    Pinged = erlang:monotonic_time(nanosecond),
    [exit(Pid, kill) || Pid <- Pids],
    ok = await_gone(Pids),
    Ended = erlang:monotonic_time(nanosecond),
    io:format("{\"otp\":\"~s\",\"spawnNs\":~b,\"pingNs\":~b,\"endNs\":~b,\"bytesEach\":~.1f}~n",
              [erlang:system_info(otp_release), Spawned - Start, Pinged - Spawned, Ended - Pinged, (After - Before) / N]).

resident(Caller) ->
    receive ping -> Caller ! pong, resident(Caller) end.

await_pongs(0) -> ok;
await_pongs(N) -> receive pong -> await_pongs(N - 1) end.

%% exit/2 is asynchronous: each process is gone once is_process_alive says so.
await_gone([]) -> ok;
await_gone([Pid | Rest] = Pids) ->
    case is_process_alive(Pid) of
        true -> erlang:yield(), await_gone(Pids);
        false -> await_gone(Rest)
    end.

%% Each shape once untimed, then timed: the warm run our side gets too (the
%% bench runs its in-thread shapes several times before timing them).
timed(Run) ->
    ok = Run(),
    Start = erlang:monotonic_time(nanosecond),
    ok = Run(),
    erlang:monotonic_time(nanosecond) - Start.

%% Ping-pong: N round trips, one message in flight, each way a plain send.
ping_pong(N) ->
    Pong = spawn_link(fun pong/0),
    ok = ping(Pong, N),
    Pong ! stop,
    ok.

ping(_Pong, 0) -> ok;
ping(Pong, N) ->
    Pong ! {ping, self()},
    receive pong -> ping(Pong, N - 1) end.

pong() ->
    receive
        {ping, From} -> From ! pong, pong();
        stop -> ok
    end.

%% Thread ring: Count processes in a ring, one token passed Hops hops; the
%% process that takes it with no hops left tells the caller.
thread_ring(Count, Hops) ->
    Caller = self(),
    First = spawn_link(fun() -> receive {next, Next} -> ring_node(Next, Caller) end end),
    Last = lists:foldl(fun(_, Next) -> spawn_link(fun() -> ring_node(Next, Caller) end) end, First, lists:seq(2, Count)),
    %% Built backwards: each new process passes to the one spawned before it, and the first to the last.
    First ! {next, Last},
    Last ! {token, Hops},
    receive ring_done -> ok end,
    First ! stop, % goes once round the ring, ending each process
    ok.

ring_node(Next, Caller) ->
    receive
        {token, 0} -> Caller ! ring_done, ring_node(Next, Caller);
        {token, Hops} -> Next ! {token, Hops - 1}, ring_node(Next, Caller);
        stop -> Next ! stop
    end.

%% Counting: N plain sends to one counter, then a request for the total.
counting(N) ->
    Counter = spawn_link(fun() -> counter(0) end),
    send_increments(Counter, N),
    Counter ! {total, self()},
    receive {total, N} -> ok end.

send_increments(_Counter, 0) -> ok;
send_increments(Counter, N) ->
    Counter ! increment,
    send_increments(Counter, N - 1).

counter(Count) ->
    receive
        increment -> counter(Count + 1);
        {total, From} -> From ! {total, Count}
    end.

%% Fork-join create: N processes, each spawned and sent one message, until all have handled it.
fork_join(N) ->
    Caller = self(),
    [spawn(fun() -> receive join -> Caller ! joined end end) ! join || _ <- lists:seq(1, N)],
    await_joined(N).

await_joined(0) -> ok;
await_joined(N) -> receive joined -> await_joined(N - 1) end.
