"""Self-tests for tests.harness, against a throwaway bot (not the project bot)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import discord
import discord.http
import pytest
import pytest_asyncio
from discord import app_commands
from discord.ext import commands

from tests.harness import (
    FakeDiscord,
    Harness,
    NoResponse,
    UserOption,
    builders,
    member,
    message_payload,
    role,
    snowflake,
)

GUILD = 710000000000000001
OWNER = 710000000000000002
ALICE = 710000000000000003
BOB = 710000000000000004
DUTY_ROLE = 710000000000000005
ADMIN_ROLE = 710000000000000006

DEPARTMENTS = ["Patrol", "Fire", "EMS", "Dispatch", "Park Rangers"]


# --- the throwaway bot -------------------------------------------------------------------


class PersistentPanel(discord.ui.View):
    """A panel that survives restarts: timeout=None, fixed custom_id, added via add_view."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Clock in", custom_id="panel:clock-in", style=discord.ButtonStyle.green)
    async def clock_in(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        await interaction.response.send_message(f"clocked in {interaction.user.id}", ephemeral=True)


class ShiftButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"shift:(?P<action>start|end):(?P<uid>\d+)"):
    def __init__(self, action: str, uid: int) -> None:
        super().__init__(discord.ui.Button(label=action.title(), custom_id=f"shift:{action}:{uid}"))
        self.action = action
        self.uid = uid

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ShiftButton:
        return cls(match["action"], int(match["uid"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.edit_message(content=f"shift {self.action} for {self.uid}", view=None)


class Counter(discord.ui.View):
    """A non-persistent view sent with a response: keyed by message id (2.7.1)."""

    def __init__(self) -> None:
        super().__init__(timeout=60)
        self.count = 0

    @discord.ui.button(label="+1", custom_id="counter:inc")
    async def inc(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        self.count += 1
        await interaction.response.edit_message(content=f"count={self.count}", view=self)

    @discord.ui.button(label="done", custom_id="counter:done")
    async def done(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        await interaction.response.defer()
        await interaction.edit_original_response(content="finished", view=None)


class DepartmentPicker(discord.ui.View):
    @discord.ui.select(custom_id="pick:dept", options=[discord.SelectOption(label=d) for d in DEPARTMENTS])
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select[Any]) -> None:
        await interaction.response.send_message(f"picked {','.join(select.values)}", ephemeral=True)


class Feedback(discord.ui.Modal, title="Feedback"):
    text: discord.ui.TextInput[Any] = discord.ui.TextInput(label="Your feedback")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"thanks: {self.text.value}", ephemeral=True)


class ThrowawayBot(commands.Bot):
    def __init__(self) -> None:
        super().__init__(command_prefix="!", intents=discord.Intents.default())

    async def setup_hook(self) -> None:
        self.add_view(PersistentPanel())
        self.add_dynamic_items(ShiftButton)

        @self.tree.command(description="Ping")
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pong", ephemeral=True)

        duty = app_commands.Group(name="duty", description="Duty")
        shift = app_commands.Group(name="shift", description="Shifts", parent=duty)

        @shift.command(description="Assign")
        async def assign(interaction: discord.Interaction, hours: int, officer: discord.Member) -> None:
            assert interaction.guild is not None
            same_guild = officer.guild is interaction.guild
            await interaction.response.send_message(f"{officer.id}:{hours}:{same_guild}:{type(hours).__name__}")

        self.tree.add_command(duty)

        @self.tree.command(description="Pick a department")
        async def department(interaction: discord.Interaction, name: str) -> None:
            await interaction.response.send_message(f"dept={name}")

        @department.autocomplete("name")
        async def department_ac(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            return [app_commands.Choice(name=d, value=d) for d in DEPARTMENTS if current.lower() in d.lower()]

        @self.tree.command(description="Slow")
        async def slow(interaction: discord.Interaction) -> None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            await asyncio.sleep(0.01)
            await interaction.followup.send("done slowly", view=Counter())
            await interaction.followup.send("and a second message")

        @self.tree.command(description="Counter")
        async def counter(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("count=0", view=Counter())

        @self.tree.command(description="Shift buttons")
        async def shiftbuttons(interaction: discord.Interaction) -> None:
            view = discord.ui.View(timeout=None)
            view.add_item(ShiftButton("start", interaction.user.id))
            await interaction.response.send_message("your shift", view=view)

        @self.tree.command(description="Go on duty")
        async def onduty(interaction: discord.Interaction) -> None:
            assert isinstance(interaction.user, discord.Member)
            try:
                await interaction.user.add_roles(discord.Object(DUTY_ROLE), reason="on duty")
            except discord.Forbidden as exc:
                await interaction.response.send_message(f"forbidden {exc.code}", ephemeral=True)
                return
            await interaction.response.send_message("on duty", ephemeral=True)

        @self.tree.command(description="Department picker")
        async def picker(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pick one", view=DepartmentPicker())

        @self.tree.command(description="Feedback")
        async def feedback(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(Feedback())

        @self.tree.command(description="Admins only")
        @app_commands.checks.has_permissions(manage_guild=True)
        async def admin(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("admin ok")

        @admin.error
        async def admin_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
            await interaction.response.send_message(f"denied: {type(error).__name__}", ephemeral=True)

        @self.tree.command(description="Over Discord's limits")
        async def oversize(interaction: discord.Interaction, where: str) -> None:
            long_text = "x" * 2001
            try:
                if where == "callback":
                    await interaction.response.send_message(long_text)
                elif where == "embed":
                    embed = discord.Embed(description="d" * 4000)
                    for i in range(3):
                        embed.add_field(name=f"f{i}", value="v" * 1000)  # each within 1,024, 7,000 in all
                    await interaction.response.send_message(embed=embed)
                elif where == "button":
                    view = discord.ui.View()
                    view.add_item(discord.ui.Button(label="b" * 81, custom_id="long:label"))
                    await interaction.response.send_message("a button", view=view)
                elif where.startswith("layout"):
                    layout = discord.ui.LayoutView()
                    box: discord.ui.Container[discord.ui.LayoutView] = discord.ui.Container()
                    count, size = (2, 2001) if where == "layout-text" else (1, 5)
                    for i in range(count):
                        box.add_item(discord.ui.TextDisplay(str(i) * size))
                    layout.add_item(box)
                    text = "content beside a layout" if where == "layout-content" else discord.utils.MISSING
                    await interaction.response.send_message(text, view=layout)
                elif where == "followup":
                    await interaction.response.defer(thinking=True)
                    await interaction.followup.send(long_text)
                elif where == "edit":
                    await interaction.response.send_message("short")
                    await interaction.edit_original_response(content=long_text)
            except discord.HTTPException as exc:
                text = f"refused {exc.status} {exc.code}"
                if interaction.response.is_done():
                    await interaction.followup.send(text)
                else:  # a refused callback acknowledges nothing: the interaction can still be answered
                    await interaction.response.send_message(text)

        @oversize.autocomplete("where")
        async def oversize_ac(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            if current == "many":
                return [app_commands.Choice(name=f"c{i}", value=f"c{i}") for i in range(26)]
            return [app_commands.Choice(name="n" * 101, value="long")]

        @self.tree.command(description="Silent")
        async def silent(interaction: discord.Interaction) -> None:
            pass


# --- fixtures --------------------------------------------------------------------------------


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as f:
        yield f


@pytest_asyncio.fixture
async def bot(fake: FakeDiscord) -> AsyncIterator[ThrowawayBot]:
    b = ThrowawayBot()
    await b.login("fake-token")
    try:
        yield b
    finally:
        await b.close()


@pytest_asyncio.fixture
async def h(bot: ThrowawayBot, fake: FakeDiscord) -> AsyncIterator[Harness]:
    harness = Harness(bot, fake, timeout=5.0)
    harness.add_guild(
        GUILD,
        name="Northca RP",
        owner_id=OWNER,
        roles=[role(DUTY_ROLE, "On Duty", position=1), role(ADMIN_ROLE, "Admin", position=2)],
        members=[member(ALICE), member(BOB)],
    )
    yield harness
    harness.close()


ALICE_M = member(ALICE, username="alice", permissions=builders.SEND_MESSAGES)
BOB_M = member(BOB, username="bob")


# --- tests -------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_login_and_route_base(fake: FakeDiscord) -> None:
    assert fake.base_url == discord.http.Route.BASE
    b = ThrowawayBot()
    await b.login("t")
    try:
        assert b.user is not None and b.user.id == fake.bot_user_id
        assert b.application_id == fake.application_id
        assert [r.path for r in fake.requests[:2]] == ["/users/@me", "/oauth2/applications/@me"]
    finally:
        await b.close()


@pytest.mark.asyncio
async def test_route_base_restored() -> None:
    before = discord.http.Route.BASE
    async with FakeDiscord() as f:
        assert discord.http.Route.BASE.startswith("http://127.0.0.1:")
        assert f.port
    assert before == discord.http.Route.BASE


@pytest.mark.asyncio
async def test_slash_ephemeral(h: Harness) -> None:
    r = await h.slash("ping", member=ALICE_M)
    assert r.callback_type == 4
    assert r.content == "pong"
    assert r.ephemeral
    assert r.ack_time is not None and 0 <= r.ack_time < 5
    assert await r.final() is r
    assert r.message is not None
    assert r.message["interaction_metadata"]["id"] == str(r.interaction_id)


@pytest.mark.asyncio
async def test_group_sub_int_and_user_option(h: Harness) -> None:
    r = await h.slash("duty", group="shift", sub="assign", member=ALICE_M, hours=8, officer=UserOption(BOB_M))
    assert r.content == f"{BOB}:8:True:int"
    assert not r.ephemeral
    # the full path form does the same
    r2 = await h.slash("duty shift assign", member=ALICE_M, hours=3, officer=UserOption(BOB_M))
    assert r2.content == f"{BOB}:3:True:int"


@pytest.mark.asyncio
async def test_interaction_member_resolves_in_guild(h: Harness, bot: ThrowawayBot) -> None:
    guild = bot.get_guild(GUILD)
    assert guild is not None and guild.me is not None
    assert guild.get_role(DUTY_ROLE) is not None
    carol = snowflake()
    await h.slash("ping", member=member(carol, username="carol"))
    assert guild.get_member(carol) is not None


@pytest.mark.asyncio
async def test_autocomplete(h: Harness) -> None:
    choices = await h.autocomplete("department", member=ALICE_M, name="s")
    assert [c["value"] for c in choices] == ["EMS", "Dispatch", "Park Rangers"]
    choices = await h.autocomplete("department", focused="name", member=ALICE_M, name="patr")
    assert choices == [{"name": "Patrol", "value": "Patrol"}]


@pytest.mark.asyncio
async def test_deferred_then_followups(h: Harness) -> None:
    r = await h.slash("slow", member=ALICE_M)
    assert r.callback_type == 5
    assert r.ephemeral
    final = await r.final()
    assert final.kind == "followup"
    assert final.content == "done slowly"
    # the first followup after a defer replaces the "thinking" message and stays ephemeral
    # r.message is set by the slash answer above (typed optional), hence the ignores.
    assert final.message is not None and final.message["id"] == r.message["id"]  # type: ignore[index]
    assert final.ephemeral
    assert final.custom_ids == ["counter:inc", "counter:done"]
    second = await r.followup()
    assert second.content == "and a second message"
    assert not second.ephemeral
    assert [f.content for f in r.followups] == ["done slowly", "and a second message"]
    # the followup's view is clickable
    clicked = await h.click("counter:inc", member=ALICE_M, message=final)
    assert clicked.callback_type == 7
    assert clicked.content == "count=1"


@pytest.mark.asyncio
async def test_view_from_response_update_and_deferred_edit(h: Harness, fake: FakeDiscord) -> None:
    r = await h.slash("counter", member=ALICE_M)
    assert r.custom_ids == ["counter:inc", "counter:done"]
    c1 = await h.click("counter:inc", member=BOB_M, message=r)
    assert (c1.callback_type, c1.content) == (7, "count=1")
    # r.message is set by the slash answer above (typed optional), hence the ignores.
    c2 = await h.click("counter:inc", member=BOB_M, message=r.message)  # type: ignore[arg-type]
    assert c2.content == "count=2"
    assert fake.messages[int(r.message["id"])]["content"] == "count=2"  # type: ignore[index]
    done = await h.click("counter:done", member=BOB_M, message=r)
    assert done.callback_type == 6
    final = await done.final()
    assert final.kind == "edit"
    assert final.content == "finished"
    assert final.components == []


@pytest.mark.asyncio
async def test_persistent_view_and_dynamic_item(h: Harness, fake: FakeDiscord) -> None:
    # a panel message the bot posted before a "restart": unknown to this process
    panel = message_payload(
        snowflake(),
        h._default_channels[GUILD],
        content="Duty panel",
        components=[
            {"type": 1, "components": [{"type": 2, "style": 3, "label": "Clock in", "custom_id": "panel:clock-in"}]}
        ],
        guild_id=GUILD,
        author=fake.bot_user_payload(),
    )
    r = await h.click("panel:clock-in", member=ALICE_M, message=panel)
    assert r.content == f"clocked in {ALICE}"
    assert r.ephemeral

    dyn_msg = message_payload(
        snowflake(),
        h._default_channels[GUILD],
        components=[
            {"type": 1, "components": [{"type": 2, "style": 1, "label": "End", "custom_id": f"shift:end:{BOB}"}]}
        ],
        guild_id=GUILD,
    )
    r2 = await h.click(f"shift:end:{BOB}", member=BOB_M, message=dyn_msg)
    assert (r2.callback_type, r2.content) == (7, f"shift end for {BOB}")

    # and a DynamicItem the bot itself sent
    r3 = await h.slash("shiftbuttons", member=ALICE_M)
    assert r3.custom_ids == [f"shift:start:{ALICE}"]
    r4 = await h.click(r3.custom_ids[0], member=ALICE_M, message=r3)
    assert r4.content == f"shift start for {ALICE}"


@pytest.mark.asyncio
async def test_string_select(h: Harness) -> None:
    r = await h.slash("picker", member=ALICE_M)
    picked = await h.click("pick:dept", member=BOB_M, message=r, values=["EMS"])
    assert (picked.callback_type, picked.content, picked.ephemeral) == (4, "picked EMS", True)
    assert picked.request.json["data"]["flags"] == 64


@pytest.mark.asyncio
async def test_option_typos_fail_fast(h: Harness) -> None:
    with pytest.raises(ValueError, match="no option"):
        await h.slash("ping", member=ALICE_M, colour="red")
    with pytest.raises(ValueError, match="requires"):
        await h.slash("duty shift assign", member=ALICE_M, hours=1)
    with pytest.raises(ValueError, match="no chat-input command"):
        await h.slash("nope", member=ALICE_M)


@pytest.mark.asyncio
async def test_click_rejects_unknown_component(h: Harness) -> None:
    r = await h.slash("counter", member=ALICE_M)
    with pytest.raises(ValueError, match="no component"):
        await h.click("nope", member=ALICE_M, message=r)


@pytest.mark.asyncio
async def test_role_add_succeeds_and_updates_cache(h: Harness, bot: ThrowawayBot, fake: FakeDiscord) -> None:
    r = await h.slash("onduty", member=ALICE_M)
    assert r.content == "on duty"
    rec = await fake.wait_for(method="PUT", path=rf"/guilds/{GUILD}/members/{ALICE}/roles/{DUTY_ROLE}$")
    assert rec.status == 204 and rec.reason == "on duty"
    guild = bot.get_guild(GUILD)
    assert guild is not None
    alice = guild.get_member(ALICE)
    assert alice is not None and DUTY_ROLE in [x.id for x in alice.roles]


@pytest.mark.asyncio
async def test_failing_role_add_is_forbidden(h: Harness, fake: FakeDiscord) -> None:
    fake.fail_next(r"/members/\d+/roles/\d+$", 403)
    r = await h.slash("onduty", member=ALICE_M)
    assert r.content == "forbidden 50013"
    # the failure was used up: the next one works
    r2 = await h.slash("onduty", member=ALICE_M)
    assert r2.content == "on duty"


@pytest.mark.asyncio
async def test_role_hierarchy_enforced(bot: ThrowawayBot, fake: FakeDiscord) -> None:
    h = Harness(bot, fake, timeout=5.0)
    # the bot's own role sits below "On Duty": Discord answers 403
    h.add_guild(GUILD, owner_id=OWNER, roles=[role(DUTY_ROLE, "On Duty", position=5)], me_role_position=1)
    r = await h.slash("onduty", member=ALICE_M)
    assert r.content == "forbidden 50013"
    h.close()


@pytest.mark.asyncio
async def test_has_permissions_check(h: Harness) -> None:
    r = await h.slash("admin", member=ALICE_M)
    assert r.content == "denied: MissingPermissions"
    boss = member(OWNER, permissions=builders.MANAGE_GUILD | builders.SEND_MESSAGES)
    assert (await h.slash("admin", member=boss)).content == "admin ok"


@pytest.mark.asyncio
async def test_modal(h: Harness) -> None:
    r = await h.slash("feedback", member=ALICE_M)
    assert r.callback_type == 9
    assert r.modal is not None and r.modal["title"] == "Feedback"
    done = await h.submit_modal(r, {"Your feedback": "great bot"}, member=ALICE_M)
    assert done.content == "thanks: great bot"


@pytest.mark.asyncio
async def test_no_response_times_out(h: Harness) -> None:
    with pytest.raises(NoResponse, match="/silent"):
        await h.slash("silent", member=ALICE_M, timeout=0.3)


@pytest.mark.asyncio
async def test_dm_interaction(h: Harness) -> None:
    r = await h.slash("ping", user=builders.user(ALICE, "alice"))
    assert r.content == "pong"


@pytest.mark.asyncio
async def test_concurrent_interactions(h: Harness) -> None:
    replies = await asyncio.gather(
        *(h.slash("duty shift assign", member=ALICE_M, hours=i, officer=UserOption(BOB_M)) for i in range(200))
    )
    assert [r.content for r in replies] == [f"{BOB}:{i}:True:int" for i in range(200)]
    assert len({r.interaction_id for r in replies}) == 200


@pytest.mark.asyncio
async def test_wait_for_past_and_future(fake: FakeDiscord, bot: ThrowawayBot) -> None:
    # already recorded (login)
    rec = await fake.wait_for(lambda r: r.path == "/users/@me", timeout=0.1)
    assert rec.method == "GET"
    channel = bot.get_partial_messageable(123)
    waiter = asyncio.create_task(fake.wait_for(method="POST", path=r"^/channels/123/messages$", timeout=2))
    msg = await channel.send("hello")
    rec2 = await waiter
    assert rec2.json["content"] == "hello"
    assert msg.id == int(rec2.response["id"])
    edited = await msg.edit(content="bye")
    assert edited.content == "bye"
    with pytest.raises(TimeoutError):
        await fake.wait_for(method="DELETE", timeout=0.05)


@pytest.mark.asyncio
async def test_latency(h: Harness, fake: FakeDiscord) -> None:
    fake.latency = 0.05
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    r = await h.slash("slow", member=ALICE_M)
    final = await r.final()
    # the bot only sees the defer's answer after the latency, so the followup comes later
    assert final.request.time - r.request.time >= 0.05
    assert loop.time() - t0 >= 0.1


@pytest.mark.asyncio
async def test_command_sync_echo(bot: ThrowawayBot, fake: FakeDiscord) -> None:
    synced = await bot.tree.sync()
    assert {c.name for c in synced} >= {"ping", "duty", "department"}
    assert all(c.id for c in synced)
    synced_guild = await bot.tree.sync(guild=discord.Object(GUILD))
    assert synced_guild == []


# --- Discord's size limits ---------------------------------------------------------------------


def too_long(limit: int) -> dict[str, Any]:
    return {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": f"Must be {limit} or fewer in length."}]}


LEGACY_WITH_V2 = {
    "_errors": [
        {
            "code": "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
            "message": "The 'content' and 'embeds' fields cannot be used when using MessageFlags.IS_COMPONENTS_V2",
        }
    ]
}
TEXT_DISPLAYS_TOO_LONG = {
    "_errors": [
        {
            "code": "MAX_TEXT_DISPLAY_CONTENT_LENGTH_EXCEEDED",
            "message": "Text display content length exceeds maximum of 4000",
        }
    ]
}
EMBED_TOO_BIG = {"_errors": [{"code": "MAX_EMBED_SIZE_EXCEEDED", "message": "Embed size exceeds maximum size of 6000"}]}


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("where", "errors"),
    [
        ("callback", {"data": {"content": too_long(2000)}}),
        ("embed", {"data": {"embeds": EMBED_TOO_BIG}}),
        ("button", {"data": {"components": {"0": {"components": {"0": {"label": too_long(80)}}}}}}),
        # Components V2: no content beside a layout, 40 components counted through every level (the container and
        # its 40 text displays are 41), and 4,000 characters of text displays in all.
        ("layout-content", {"data": {"content": LEGACY_WITH_V2}}),
        ("layout-text", {"data": {"components": TEXT_DISPLAYS_TOO_LONG}}),
    ],
)
async def test_over_limit_callback_is_refused_like_discord(
    h: Harness, fake: FakeDiscord, where: str, errors: Any
) -> None:
    refused = await h.slash("oversize", member=ALICE_M, where=where)
    assert refused.status == 400
    assert refused.request.response == {"code": 50035, "message": "Invalid Form Body", "errors": errors}
    # nothing was acknowledged: the bot's next callback is accepted
    retry = await h.fake.wait_for(lambda r: r.path.endswith("/callback") and r.ok, since=refused.request.seq + 1)
    assert retry.json["data"]["content"] == "refused 400 50035"


def test_layout_of_more_than_40_components_counted_through_every_level_is_refused() -> None:
    """discord.py refuses a 41st child itself; a message built by hand (or by another library) is counted here."""
    from tests.harness.limits import IS_COMPONENTS_V2, message_errors

    def section(i: int) -> dict[str, Any]:
        button = {"type": 2, "style": 2, "label": "b", "custom_id": f"b{i}"}
        return {"type": 9, "components": [{"type": 10, "content": f"s{i}"}], "accessory": button}

    fits = {"flags": IS_COMPONENTS_V2, "components": [{"type": 17, "components": [section(i) for i in range(13)]}]}
    assert message_errors(fits) == {}  # 1 container + 13 x (section, text, button) = 40
    over = {"flags": IS_COMPONENTS_V2, "components": [{"type": 17, "components": [section(i) for i in range(14)]}]}
    assert message_errors(over) == {"components": {"_errors": too_long(40)["_errors"]}}
    # Without the flag the old rules apply (content and embeds allowed, rows counted at the top level).
    assert message_errors({"content": "hi", "components": []}) == {}


@pytest.mark.asyncio
@pytest.mark.parametrize("where", ["followup", "edit"])
async def test_over_limit_followup_and_edit_are_refused(h: Harness, fake: FakeDiscord, where: str) -> None:
    first = await h.slash("oversize", member=ALICE_M, where=where)
    assert first.status == 200
    reply = await first.followup()
    assert reply.content == "refused 400 50035"
    refused = [r for r in fake.requests if r.status == 400]
    assert len(refused) == 1 and refused[0].response["errors"] == {"content": too_long(2000)}
    assert all(m.get("content") != "x" * 2001 for m in fake.messages.values())


@pytest.mark.asyncio
async def test_over_limit_channel_message_and_edit_are_refused(
    h: Harness, bot: ThrowawayBot, fake: FakeDiscord
) -> None:
    channel = bot.get_partial_messageable(snowflake(), guild_id=GUILD)
    with pytest.raises(discord.HTTPException) as sent:
        await channel.send("x" * 2001)
    assert (sent.value.status, sent.value.code) == (400, 50035)
    message = await channel.send("fits")
    with pytest.raises(discord.HTTPException) as edited:
        await message.edit(embed=discord.Embed(title="t" * 257))
    assert (edited.value.status, edited.value.code) == (400, 50035)
    assert fake.requests[-1].response["errors"] == {"embeds": {"0": {"title": too_long(256)}}}
    assert fake.messages[message.id]["embeds"] == []  # the refused edit changed nothing
    await message.edit(content="x" * 2000)  # exactly at the limit is fine
    assert fake.messages[message.id]["content"] == "x" * 2000


@pytest.mark.asyncio
async def test_over_limit_autocomplete_is_refused(h: Harness, fake: FakeDiscord) -> None:
    for typed, error_path in (("many", ("choices", "_errors")), ("long", ("choices", "0", "name"))):
        with pytest.raises(AssertionError, match="Discord refused the autocomplete answer"):
            await h.autocomplete("oversize", member=ALICE_M, where=typed)
        errors = fake.requests[-1].response["errors"]["data"]
        for key in error_path:
            errors = errors[key]
        assert errors


@pytest.mark.asyncio
async def test_channel_history_is_newest_first_with_limit_and_before(h: Harness, bot: ThrowawayBot) -> None:
    guild = bot.get_guild(GUILD)
    assert guild is not None
    channel = guild.text_channels[0]
    sent = [await channel.send(f"m{i}") for i in range(5)]
    await h.slash("ping", member=ALICE_M)  # an ephemeral answer: not in the channel's history

    assert [m.content for m in [m async for m in channel.history(limit=3)]] == ["m4", "m3", "m2"]
    older = [m.content async for m in channel.history(limit=10, before=sent[2])]
    assert older == ["m1", "m0"]
    newer = [m.content async for m in channel.history(limit=2, after=sent[1])]  # discord.py: oldest first
    assert newer == ["m2", "m3"]
    assert {m.author.id for m in [m async for m in channel.history(limit=None)]} == {bot.user.id if bot.user else 0}


@pytest.mark.asyncio
async def test_dm_channel_history_holds_that_members_dms_newest_first(h: Harness, bot: ThrowawayBot) -> None:
    guild = bot.get_guild(GUILD)
    assert guild is not None
    alice, bob = guild.get_member(ALICE), guild.get_member(BOB)
    assert alice is not None and bob is not None
    sent = [await alice.send(f"a{i}") for i in range(3)]
    await bob.send("for bob")
    dm = alice.dm_channel or await alice.create_dm()
    assert sent[0].channel.id == dm.id  # one DM channel per user, as Discord keeps it
    assert [m.content async for m in alice.history(limit=10)] == ["a2", "a1", "a0"]
    assert [m.content async for m in alice.history(limit=10, before=sent[1])] == ["a0"]
    assert [m.content async for m in bob.history(limit=10)] == ["for bob"]
    assert [m.guild async for m in alice.history(limit=10)] == [None, None, None]


@pytest.mark.asyncio
async def test_held_request_takes_effect_before_or_after_its_release(bot: ThrowawayBot, fake: FakeDiscord) -> None:
    Harness(bot, fake).add_guild(GUILD, owner_id=OWNER)
    guild = bot.get_guild(GUILD)
    assert guild is not None
    channel = guild.text_channels[0]

    # Answer lost: the message exists, the sender (cancelled, as if killed) never sees it.
    lost = fake.hold(rf"^/channels/{channel.id}/messages$", method="POST", took_effect=True)
    sending = asyncio.create_task(channel.send("posted, answer lost"))
    await lost.wait_arrived()
    sending.cancel()
    assert [m.content async for m in channel.history(limit=5)] == ["posted, answer lost"]

    # Held before it takes effect: nothing until released, then handled and answered.
    slow = fake.hold(rf"^/channels/{channel.id}/messages$", method="POST")
    later = asyncio.create_task(channel.send("slow"))
    await slow.wait_arrived()
    assert [m.content async for m in channel.history(limit=5)] == ["posted, answer lost"]
    slow.release()
    assert (await later).content == "slow"
    assert [m.content async for m in channel.history(limit=5)] == ["slow", "posted, answer lost"]


@pytest.mark.asyncio
async def test_enforced_nonce_returns_the_message_it_made_instead_of_a_second(h: Harness, bot: ThrowawayBot) -> None:
    guild = bot.get_guild(GUILD)
    assert guild is not None
    channel = guild.text_channels[0]
    first = await channel.send("once", nonce=4242)  # discord.py sends enforce_nonce with every nonce
    again = await channel.send("once, sent again", nonce=4242)
    other = await channel.send("another", nonce=4343)
    assert again.id == first.id and again.content == "once" and other.id != first.id
    assert [m.content async for m in channel.history(limit=5)] == ["another", "once"]
